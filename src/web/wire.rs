//! The wire on the wasm side. The browser's `JSON.parse` reads the server's text and
//! the small serde `Deserializer` below maps the parsed value onto the protocol
//! types; requests are written with serde_json (they hold no floats, so no float
//! printing comes with it).
//!
//! Hand-written rather than serde-wasm-bindgen for size: a decode error here carries
//! no text, so serde's messages (which print the unexpected value, floats included)
//! never reach the wasm, and there is no per-type struct machinery or key cache.
//! See BENCHMARKS.md, size budget.

use js_sys::{Array, Object, Reflect};
use serde::de::{
    self, DeserializeOwned, DeserializeSeed, EnumAccess, IntoDeserializer, MapAccess, SeqAccess,
    VariantAccess, Visitor,
};
use serde::forward_to_deserialize_any;
use std::fmt;
use wasm_bindgen::{JsCast, JsValue};

/// A parsed value that does not have the shape of the type asked for.
#[derive(Debug)]
pub struct Mismatch;

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the value does not match the protocol")
    }
}

impl std::error::Error for Mismatch {}

impl de::Error for Mismatch {
    fn custom<T: fmt::Display>(_: T) -> Self {
        Mismatch
    }
}

/// A value from `JSON.parse` as a `T`.
pub fn decode<T: DeserializeOwned>(value: JsValue) -> Result<T, Mismatch> {
    T::deserialize(Value(value))
}

struct Value(JsValue);

impl<'de> de::Deserializer<'de> for Value {
    type Error = Mismatch;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Mismatch> {
        let v = self.0;
        if let Some(b) = v.as_bool() {
            return visitor.visit_bool(b);
        }
        if let Some(n) = v.as_f64() {
            // JSON has one number type; integers go to the integer visitors, which
            // check their own ranges.
            return match n {
                n if n.fract() != 0.0 || !n.is_finite() => visitor.visit_f64(n),
                n if n >= 0.0 => visitor.visit_u64(n as u64),
                n => visitor.visit_i64(n as i64),
            };
        }
        if let Some(s) = v.as_string() {
            return visitor.visit_string(s);
        }
        if Array::is_array(&v) {
            let items = Array::from(&v);
            return visitor.visit_seq(Items { items, at: 0 });
        }
        if v.is_object() {
            let keys = Object::keys(v.unchecked_ref::<Object>());
            return visitor.visit_map(Fields {
                object: v,
                keys,
                at: 0,
            });
        }
        visitor.visit_unit()
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Mismatch> {
        if self.0.is_null() || self.0.is_undefined() {
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Mismatch> {
        visitor.visit_newtype_struct(self)
    }

    /// Externally tagged: `"variant"` for a unit variant, `{"variant": value}` otherwise.
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Mismatch> {
        let v = self.0;
        if let Some(tag) = v.as_string() {
            return visitor.visit_enum(Tagged {
                tag,
                value: JsValue::UNDEFINED,
            });
        }
        if !v.is_object() {
            return Err(Mismatch);
        }
        let keys = Object::keys(v.unchecked_ref::<Object>());
        let tag = keys.get(0);
        match (keys.length(), tag.as_string()) {
            (1, Some(name)) => {
                let value = Reflect::get(&v, &tag).map_err(|_| Mismatch)?;
                visitor.visit_enum(Tagged { tag: name, value })
            }
            _ => Err(Mismatch),
        }
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
        byte_buf unit unit_struct seq tuple tuple_struct map struct identifier ignored_any
    }
}

struct Items {
    items: Array,
    at: u32,
}

impl<'de> SeqAccess<'de> for Items {
    type Error = Mismatch;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Mismatch> {
        if self.at >= self.items.length() {
            return Ok(None);
        }
        self.at += 1;
        seed.deserialize(Value(self.items.get(self.at - 1)))
            .map(Some)
    }
}

struct Fields {
    object: JsValue,
    keys: Array,
    at: u32,
}

impl<'de> MapAccess<'de> for Fields {
    type Error = Mismatch;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Mismatch> {
        if self.at >= self.keys.length() {
            return Ok(None);
        }
        seed.deserialize(Value(self.keys.get(self.at))).map(Some)
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<T::Value, Mismatch> {
        let key = self.keys.get(self.at);
        self.at += 1;
        let value = Reflect::get(&self.object, &key).map_err(|_| Mismatch)?;
        seed.deserialize(Value(value))
    }
}

struct Tagged {
    tag: String,
    value: JsValue,
}

impl<'de> EnumAccess<'de> for Tagged {
    type Error = Mismatch;
    type Variant = Value;

    fn variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<(T::Value, Value), Mismatch> {
        let tag = seed.deserialize(self.tag.into_deserializer())?;
        Ok((tag, Value(self.value)))
    }
}

impl<'de> VariantAccess<'de> for Value {
    type Error = Mismatch;

    fn unit_variant(self) -> Result<(), Mismatch> {
        Ok(())
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, Mismatch> {
        seed.deserialize(self)
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, Mismatch> {
        de::Deserializer::deserialize_any(self, visitor)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Mismatch> {
        de::Deserializer::deserialize_any(self, visitor)
    }
}
