//! The one error type that crosses the wire. Every server function returns `Result<T, AppError>`; the HTTP
//! status of an error answer is derived from the variant (see `AppError::status`), and no variant ever carries
//! database or stack text: internal failures are logged on the server and reach the browser as `Internal`.

use serde::{Deserialize, Serialize};
use server_fn::codec::JsonEncoding;
use server_fn::error::{FromServerFnError, ServerFnErrorErr};

use leptos::server_fn;

use crate::model::ErasureReceipt;

/// Why a server function refused or failed. The message (`Display`) is written for the person at the console and
/// is shown as it is; the variant decides the HTTP status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// 401: nobody is signed in, or the session ended.
    #[error("Please sign in.")]
    Unauthorized,
    /// 401: the email or the password is wrong (one answer for both).
    #[error("Wrong email or password.")]
    BadCredentials,
    /// 403: signed in, but this user may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// 403: an irreversible step needs the user's password again, as their last sign-in was over 15 minutes
    /// ago; the same request with the password goes through.
    #[error(
        "Your last sign-in was more than 15 minutes ago. Enter your password to confirm this step."
    )]
    PasswordRequired,
    /// 404: no such thing in the signed-in user's account.
    #[error("{0}")]
    NotFound(String),
    /// 409: the request conflicts with the current state (for example, already erased).
    #[error("{0}")]
    Conflict(String),
    /// 409: the record's call and message data had been erased before this erasure could run (in another tab,
    /// or by another Admin). An outcome rather than a failure: it carries that earlier erasure's receipt.
    #[error("{message}")]
    AlreadyErased {
        /// Says that the data was already erased, when and by whom.
        message: String,
        /// The receipt of the erasure that came first.
        receipt: Box<ErasureReceipt>,
    },
    /// 422: the input was understood but is not acceptable.
    #[error("{0}")]
    Invalid(String),
    /// 413: the upload is larger than the console takes; the message says the limit.
    #[error("{0}")]
    PayloadTooLarge(String),
    /// 429: too many attempts.
    #[error("Too many attempts. Wait a few minutes, then try again.")]
    TooManyRequests,
    /// 500: something failed on the server; details are in the server log only.
    #[error("Something went wrong on our side. Nothing was changed; please try again.")]
    Internal,
    /// 500: a change was sent to the database but its outcome was never confirmed; it may or may not have been
    /// made.
    #[error(
        "The database did not confirm the change, so it may or may not have been made. Reload the page to see."
    )]
    Unconfirmed,
    /// 503: the console is too busy to take this request now; the answer says when to retry (`Retry-After`).
    #[error("The console is busy. Wait a moment, then try again.")]
    Busy,
    /// The browser could not reach the console.
    #[error("The console could not be reached. Check your connection and try again.")]
    Unreachable,
}

impl AppError {
    /// The HTTP status this error is answered with.
    pub fn status(&self) -> u16 {
        match self {
            AppError::Unauthorized | AppError::BadCredentials => 401,
            AppError::Forbidden(_) | AppError::PasswordRequired => 403,
            AppError::NotFound(_) => 404,
            AppError::Conflict(_) | AppError::AlreadyErased { .. } => 409,
            AppError::PayloadTooLarge(_) => 413,
            AppError::Invalid(_) => 422,
            AppError::TooManyRequests => 429,
            AppError::Internal | AppError::Unconfirmed => 500,
            AppError::Busy | AppError::Unreachable => 503,
        }
    }

    /// 403 with `message`, which says what the user lacks.
    pub fn forbidden(message: &str) -> Self {
        AppError::Forbidden(message.to_owned())
    }

    /// 404 with `message`, which names what was not found in the user's account.
    pub fn not_found(message: &str) -> Self {
        AppError::NotFound(message.to_owned())
    }

    /// 422 with `message`, which says what to change in the input.
    pub fn invalid(message: &str) -> Self {
        AppError::Invalid(message.to_owned())
    }

    /// 409 for a record whose data the erasure `receipt` had already erased.
    pub fn already_erased(receipt: ErasureReceipt) -> Self {
        AppError::AlreadyErased {
            message: format!(
                "This record's call and message data was already erased on {} by {}.",
                crate::format::format_time(receipt.erased_at),
                receipt.erased_by_name
            ),
            receipt: Box::new(receipt),
        }
    }

    /// 409 with `message`, which says what state stands in the way.
    pub fn conflict(message: &str) -> Self {
        AppError::Conflict(message.to_owned())
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Args(_) | ServerFnErrorErr::Deserialization(_) => {
                AppError::invalid("The request was malformed.")
            }
            ServerFnErrorErr::Request(_) | ServerFnErrorErr::Response(_) => AppError::Unreachable,
            ServerFnErrorErr::MissingArg(_) => AppError::invalid("A required field is missing."),
            _ => AppError::Internal,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variant_maps_to_its_status() {
        assert_eq!(AppError::Unauthorized.status(), 401);
        assert_eq!(AppError::forbidden("x").status(), 403);
        assert_eq!(AppError::PasswordRequired.status(), 403);
        assert_eq!(AppError::not_found("x").status(), 404);
        assert_eq!(AppError::conflict("x").status(), 409);
        assert_eq!(AppError::invalid("x").status(), 422);
        assert_eq!(AppError::PayloadTooLarge("x".into()).status(), 413);
        assert_eq!(AppError::TooManyRequests.status(), 429);
        assert_eq!(AppError::Internal.status(), 500);
        assert_eq!(AppError::Unconfirmed.status(), 500);
        assert_eq!(AppError::Busy.status(), 503);
    }

    #[test]
    fn framework_argument_errors_become_422_without_their_text() {
        let err =
            AppError::from_server_fn_error(ServerFnErrorErr::Args("invalid digit at sql".into()));
        assert_eq!(err.status(), 422);
        assert!(!err.to_string().contains("sql"));
    }

    #[test]
    fn an_earlier_erasure_is_409_and_names_when_and_by_whom() {
        let err = AppError::already_erased(ErasureReceipt {
            erasure_id: uuid::Uuid::from_u128(7),
            erased_at: time::macros::datetime!(2026-03-04 05:06 UTC),
            erased_by_name: "Alex Admin".into(),
            counts: crate::model::ErasureCounts::default(),
        });
        assert_eq!(err.status(), 409);
        assert_eq!(
            err.to_string(),
            "This record's call and message data was already erased on 2026-03-04 05:06 UTC by Alex Admin."
        );
        assert_eq!(AppError::de(err.ser()), err);
    }

    #[test]
    fn errors_round_trip_as_json() {
        let err = AppError::conflict("This record's data was already erased.");
        let bytes = err.ser();
        assert_eq!(AppError::de(bytes), err);
    }
}
