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
        match classify(self.0) {
            Kind::Bool(b) => visitor.visit_bool(b),
            Kind::Unsigned(n) => visitor.visit_u64(n),
            Kind::Signed(n) => visitor.visit_i64(n),
            Kind::Float(n) => visitor.visit_f64(n),
            Kind::Str(s) => visitor.visit_string(s),
            Kind::Seq(items) => visitor.visit_seq(items),
            Kind::Map(fields) => visitor.visit_map(fields),
            Kind::Unit => visitor.visit_unit(),
        }
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
        visitor.visit_enum(tagged(self.0)?)
    }

    // Each type asks for what it expects and gets only that visitor method called: a
    // visitor's other methods (a struct's `visit_seq`, a field name's `visit_u64`)
    // are then never referenced and never reach the wasm.
    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Mismatch> {
        visitor.visit_bool(self.0.as_bool().ok_or(Mismatch)?)
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Mismatch> {
        visitor.visit_string(self.0.as_string().ok_or(Mismatch)?)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Mismatch> {
        self.deserialize_string(visitor)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Mismatch> {
        self.deserialize_string(visitor)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Mismatch> {
        match classify(self.0) {
            Kind::Seq(items) => visitor.visit_seq(items),
            _ => Err(Mismatch),
        }
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Mismatch> {
        match classify(self.0) {
            Kind::Map(fields) => visitor.visit_map(fields),
            _ => Err(Mismatch),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Mismatch> {
        self.deserialize_map(visitor)
    }

    /// An unknown field's value: nothing to read.
    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Mismatch> {
        visitor.visit_unit()
    }

    fn deserialize_u8<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Mismatch> {
        self.deserialize_u64(visitor)
    }

    fn deserialize_u16<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Mismatch> {
        self.deserialize_u64(visitor)
    }

    fn deserialize_u32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Mismatch> {
        self.deserialize_u64(visitor)
    }

    fn deserialize_u64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Mismatch> {
        match classify(self.0) {
            Kind::Unsigned(n) => visitor.visit_u64(n),
            _ => Err(Mismatch),
        }
    }

    fn deserialize_i8<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Mismatch> {
        self.deserialize_i64(visitor)
    }

    fn deserialize_i16<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Mismatch> {
        self.deserialize_i64(visitor)
    }

    fn deserialize_i32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Mismatch> {
        self.deserialize_i64(visitor)
    }

    fn deserialize_i64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Mismatch> {
        match classify(self.0) {
            Kind::Unsigned(n) => visitor.visit_u64(n),
            Kind::Signed(n) => visitor.visit_i64(n),
            _ => Err(Mismatch),
        }
    }

    forward_to_deserialize_any! {
        i128 u128 f32 f64 char bytes byte_buf unit unit_struct tuple tuple_struct
    }
}

/// What a parsed value is. Worked out here, once, rather than in `deserialize_any`,
/// which is instantiated for every visitor type of the protocol: each instance is
/// then only the dispatch below (BENCHMARKS.md, size budget).
enum Kind {
    Bool(bool),
    Unsigned(u64),
    Signed(i64),
    Float(f64),
    Str(String),
    Seq(Items),
    Map(Fields),
    Unit,
}

#[inline(never)]
fn classify(v: JsValue) -> Kind {
    if let Some(b) = v.as_bool() {
        return Kind::Bool(b);
    }
    if let Some(n) = v.as_f64() {
        // JSON has one number type; integers go to the integer visitors, which
        // check their own ranges.
        return match n {
            n if n.fract() != 0.0 || !n.is_finite() => Kind::Float(n),
            n if n >= 0.0 => Kind::Unsigned(n as u64),
            n => Kind::Signed(n as i64),
        };
    }
    if let Some(s) = v.as_string() {
        return Kind::Str(s);
    }
    if Array::is_array(&v) {
        let items = Array::from(&v);
        return Kind::Seq(Items { items, at: 0 });
    }
    if v.is_object() {
        let keys = Object::keys(v.unchecked_ref::<Object>());
        return Kind::Map(Fields {
            object: v,
            keys,
            at: 0,
        });
    }
    Kind::Unit
}

/// An externally tagged enum value: `"variant"`, or `{"variant": value}`.
#[inline(never)]
fn tagged(v: JsValue) -> Result<Tagged, Mismatch> {
    if let Some(tag) = v.as_string() {
        return Ok(Tagged {
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
            Ok(Tagged { tag: name, value })
        }
        _ => Err(Mismatch),
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

    // As the typed `deserialize_*` above: a struct variant is read as a map only, so
    // its visitor's `visit_seq` (and the rest) never reach the wasm.
    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, Mismatch> {
        de::Deserializer::deserialize_seq(self, visitor)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Mismatch> {
        de::Deserializer::deserialize_map(self, visitor)
    }
}
