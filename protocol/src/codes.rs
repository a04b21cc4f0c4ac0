//! Error codes and exit reasons, numerically identical to emedia's.

use serde::{Deserialize, Serialize};

macro_rules! numeric_enum {
    ($(#[$doc:meta])* $name:ident : $repr:ty as $reprs:literal { $($(#[$vdoc:meta])* $variant:ident = $value:expr),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(try_from = $reprs, into = $reprs)]
        pub enum $name {
            $($(#[$vdoc])* $variant = $value),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn code(self) -> $repr {
                self as $repr
            }

            pub fn from_code(code: $repr) -> Option<Self> {
                match code {
                    $(v if v == $value => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl From<$name> for $repr {
            fn from(v: $name) -> $repr {
                v as $repr
            }
        }

        impl TryFrom<$repr> for $name {
            type Error = String;
            fn try_from(v: $repr) -> Result<Self, String> {
                // A fixed text: formatting the value would keep `core::fmt` in the wasm.
                $name::from_code(v).ok_or_else(|| String::from(concat!("unknown ", stringify!($name))))
            }
        }
    };
}

pub(crate) use numeric_enum;

numeric_enum! {
    /// The `code` of a rejected request. Client-side codes (-9527) never cross the wire
    /// from the server but share the enum so the SDK has one list.
    ErrorCode: i32 as "i32" {
        /// The token was missing, malformed, expired or signed with another secret.
        TokenInvalid = -100,
        /// The caller's role does not allow this (a TALKER kicking, an AUDIENCE publishing).
        IllegalRights = -101,
        /// A parameter is missing or has the wrong type or value.
        BadParameters = -200,
        ConferenceNotFound = -301,
        ConferenceDisbanded = -302,
        TicketInvalid = -500,
        BadRequest = -501,
        TicketExpired = -502,
        MemberInvalid = -504,
        ConferenceInvalid = -506,
        NotSupported = -507,
        WrongPassword = -508,
        /// The client's protocol is not supported, or it hit a server limit (message
        /// rate, conferences, members).
        ClientNotSupported = -510,
        SubscribeNoCodec = -520,
        TooManyMembers = -522,
        TooManyTalkers = -523,
        TooManyVideos = -524,
        SdpRequired = -550,
        PublishInactive = -554,
        /// The user called or invited is not logged in.
        UserOffline = -601,
        /// No such call or invitation: it ended, was cancelled, expired, or never was.
        CallNotFound = -602,
        /// This call or invitation was already answered.
        AlreadyAnswered = -603,
        /// You are not in this call (or did not send this invitation).
        NotInCall = -604,
        /// A message, attribute or transfer is over its size limit.
        TooLarge = -701,
        /// The user is not in a conference with you (or is unknown).
        NotInConference = -702,
        /// A data chunk out of order, duplicated, beyond the transfer's size or window,
        /// or an ack of bytes never sent.
        BadChunk = -703,
        /// No such transfer: it ended, was cancelled, or is not yours.
        TransferNotFound = -704,
        /// A room is already in a PK, or has one pending.
        PkBusy = -705,
        /// No such request (to speak, or for a PK), or it was answered already.
        RequestNotFound = -706,
        /// Client side only: the network to the server failed.
        Network = -9527,
    }
}

numeric_enum! {
    /// `onConferenceExit(reason, failed)`: why this client is no longer in a conference.
    ExitReason: u8 as "u8" {
        Normal = 0,
        NoResponse = 1,
        ServerRefused = 2,
        PeerBusy = 3,
        Failed = 4,
        NotSupported = 5,
        Timeout = 6,
        LoggedInElsewhere = 10,
        Closed = 11,
        Kicked = 12,
    }
}

numeric_enum! {
    /// `onMemberExited(member, reason)`: why another member left this member's view.
    /// The values follow [`ExitReason`] where the meaning is the same.
    MemberExitReason: u8 as "u8" {
        /// The member called exitConference.
        Left = 0,
        /// The member timed out: its connection went silent or dropped, and it did not
        /// come back within the liveness timeout.
        NoResponse = 1,
        /// The member's network failed.
        Network = 4,
        /// The same user joined again from another session, which replaced this one.
        Replaced = 10,
        Kicked = 12,
        /// The member is no longer visible to you: it became AUDIENCE, or you stopped being
        /// ADMIN, and audience members are shown only to ADMINs.
        Hidden = 13,
    }
}

impl ErrorCode {
    /// Words for a code, used when a caller gives none of its own.
    pub fn describe(self) -> &'static str {
        match self {
            ErrorCode::TokenInvalid => "token authorisation failed",
            ErrorCode::IllegalRights => "your role does not allow this",
            ErrorCode::BadParameters => "bad request parameters",
            ErrorCode::ConferenceNotFound => "conference does not exist",
            ErrorCode::ConferenceDisbanded => "conference was disbanded",
            ErrorCode::TicketInvalid => "ticket invalid",
            ErrorCode::BadRequest => "bad request",
            ErrorCode::TicketExpired => "ticket expired",
            ErrorCode::MemberInvalid => "member invalid",
            ErrorCode::ConferenceInvalid => "conference invalid",
            ErrorCode::NotSupported => "operation not supported",
            ErrorCode::WrongPassword => "wrong password",
            ErrorCode::ClientNotSupported => "client not supported or server limit reached",
            ErrorCode::SubscribeNoCodec => "subscribe failed: no common codec",
            ErrorCode::TooManyMembers => "too many members",
            ErrorCode::TooManyTalkers => "too many talkers",
            ErrorCode::TooManyVideos => "too many published videos",
            ErrorCode::SdpRequired => "SDP required",
            ErrorCode::PublishInactive => "publish inactive",
            ErrorCode::UserOffline => "the user is offline",
            ErrorCode::CallNotFound => "no such call or invitation",
            ErrorCode::AlreadyAnswered => "already answered",
            ErrorCode::NotInCall => "you are not in this call",
            ErrorCode::TooLarge => "over the size limit",
            ErrorCode::NotInConference => "the user is not in a conference with you",
            ErrorCode::BadChunk => "data chunk out of order or out of bounds",
            ErrorCode::TransferNotFound => "no such transfer",
            ErrorCode::PkBusy => "a PK is already running or pending",
            ErrorCode::RequestNotFound => "no such request",
            ErrorCode::Network => "network failure",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_as_numbers() {
        for code in ErrorCode::ALL {
            let json = serde_json::to_string(code).unwrap();
            assert_eq!(json, code.code().to_string());
            assert_eq!(serde_json::from_str::<ErrorCode>(&json).unwrap(), *code);
        }
        assert_eq!(ErrorCode::WrongPassword.code(), -508);
        assert_eq!(ExitReason::Kicked.code(), 12);
        assert!(serde_json::from_str::<ExitReason>("99").is_err());
    }
}
