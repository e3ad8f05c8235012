//! Sealing one stored value under its record's data key: XChaCha20-Poly1305 with a random nonce, the
//! associated data naming the account, the record, the table, the column and the row, so a sealed value copied
//! into another row, column, record or account fails to open. `Sealer` seals a record's new values; `Opener`
//! reads a record's values back, sealed, or plaintext in rows written before keys existed.

use uuid::Uuid;

use super::files::{FileOpening, FileSealing, seal_file};
use super::tree::{Key, Unopened, open_bytes, seal_bytes};

/// Where a sealed value is stored; it opens only there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place {
    /// The record's account.
    pub account: Uuid,
    /// The customer record whose data key seals it.
    pub customer: Uuid,
    /// The table, as `"messages"`.
    pub table: &'static str,
    /// The column, as `"body"`.
    pub column: &'static str,
    /// The row's id.
    pub row: Uuid,
}

impl Place {
    fn associated_data(&self) -> Vec<u8> {
        let mut data = b"cdc sealed value v1".to_vec();
        data.extend_from_slice(self.account.as_bytes());
        data.extend_from_slice(self.customer.as_bytes());
        for name in [self.table, self.column] {
            data.push(name.len() as u8);
            data.extend_from_slice(name.as_bytes());
        }
        data.extend_from_slice(self.row.as_bytes());
        data
    }
}

/// `text` sealed under the record's data `key` for `place`.
pub fn seal_text(key: &Key, place: &Place, text: &str) -> Vec<u8> {
    seal_bytes(key, &place.associated_data(), text.as_bytes())
}

/// The text `sealed` holds, if it was sealed under `key` for exactly `place`.
pub fn open_text(key: &Key, place: &Place, sealed: &[u8]) -> Result<String, Unopened> {
    let bytes = open_bytes(key, &place.associated_data(), sealed)?;
    String::from_utf8(bytes).map_err(|_| Unopened)
}

/// Seals the new values of one record under its data key.
pub struct Sealer {
    account: Uuid,
    customer: Uuid,
    key: Key,
}

impl Sealer {
    /// The sealer of `customer` (of `account`) with its data `key`.
    pub fn new(account: Uuid, customer: Uuid, key: Key) -> Sealer {
        Sealer {
            account,
            customer,
            key,
        }
    }

    /// `text`, to be stored in `table`.`column` of row `row`, sealed.
    pub fn seal(
        &self,
        table: &'static str,
        column: &'static str,
        row: Uuid,
        text: &str,
    ) -> Vec<u8> {
        seal_text(&self.key, &self.place(table, column, row), text)
    }

    /// `text`, if any, sealed as `seal` does.
    pub fn seal_optional(
        &self,
        table: &'static str,
        column: &'static str,
        row: Uuid,
        text: Option<&str>,
    ) -> Option<Vec<u8>> {
        text.map(|text| self.seal(table, column, row, text))
    }

    /// Starts sealing the file to be stored at `store_key`.
    pub fn file(&self, store_key: &str) -> FileSealing {
        FileSealing::new(&self.key, self.account, self.customer, store_key)
    }

    /// `bytes`, a whole (small) file to be stored at `store_key`, sealed.
    pub fn seal_file(&self, store_key: &str, bytes: &[u8]) -> Vec<u8> {
        seal_file(&self.key, self.account, self.customer, store_key, bytes)
    }

    fn place(&self, table: &'static str, column: &'static str, row: Uuid) -> Place {
        Place {
            account: self.account,
            customer: self.customer,
            table,
            column,
            row,
        }
    }
}

/// Reads one record's stored values: a sealed one opened under the record's data key, a plaintext one (a row
/// written before keys existed) as it is.
pub struct Opener {
    account: Uuid,
    customer: Uuid,
    key: Option<Key>,
}

impl Opener {
    /// The opener of `customer` (of `account`) with its data key, `None` when it has none.
    pub fn new(account: Uuid, customer: Uuid, key: Option<Key>) -> Opener {
        Opener {
            account,
            customer,
            key,
        }
    }

    /// The value of `table`.`column` in row `row`: `sealed` opened when present, else `plain`.
    pub fn value(
        &self,
        table: &'static str,
        column: &'static str,
        row: Uuid,
        plain: Option<String>,
        sealed: Option<&[u8]>,
    ) -> Result<Option<String>, Unopened> {
        let Some(sealed) = sealed else {
            return Ok(plain);
        };
        let key = self.key.as_ref().ok_or(Unopened)?;
        let place = Place {
            account: self.account,
            customer: self.customer,
            table,
            column,
            row,
        };
        open_text(key, &place, sealed).map(Some)
    }

    /// Like `value`, for a column every row has a value in (sealed or plain).
    pub fn required(
        &self,
        table: &'static str,
        column: &'static str,
        row: Uuid,
        plain: Option<String>,
        sealed: Option<&[u8]>,
    ) -> Result<String, Unopened> {
        self.value(table, column, row, plain, sealed)?
            .ok_or(Unopened)
    }

    /// Starts reading the file stored at `store_key`.
    pub fn file(&self, store_key: &str) -> FileOpening {
        FileOpening::new(self.key.clone(), self.account, self.customer, store_key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn place() -> Place {
        Place {
            account: Uuid::new_v4(),
            customer: Uuid::new_v4(),
            table: "messages",
            column: "body",
            row: Uuid::new_v4(),
        }
    }

    #[test]
    fn a_sealed_value_opens_in_its_place_and_hides_its_text() {
        let key = Key::random();
        let here = place();
        let sealed = seal_text(&key, &here, "Call me back about the renewal");
        assert!(!sealed.windows(7).any(|window| window == b"renewal"));
        assert_eq!(
            open_text(&key, &here, &sealed).as_deref(),
            Ok("Call me back about the renewal")
        );
        assert_ne!(
            sealed,
            seal_text(&key, &here, "Call me back about the renewal")
        );
    }

    #[test]
    fn a_sealed_value_moved_anywhere_else_fails_to_open() {
        let key = Key::random();
        let here = place();
        let sealed = seal_text(&key, &here, "private");
        let elsewhere = [
            Place {
                row: Uuid::new_v4(),
                ..here
            },
            Place {
                customer: Uuid::new_v4(),
                ..here
            },
            Place {
                account: Uuid::new_v4(),
                ..here
            },
            Place {
                column: "notes",
                ..here
            },
            Place {
                table: "calls",
                ..here
            },
        ];
        for place in elsewhere {
            assert_eq!(open_text(&key, &place, &sealed), Err(Unopened), "{place:?}");
        }
        assert_eq!(open_text(&Key::random(), &here, &sealed), Err(Unopened));
    }

    #[test]
    fn an_opener_reads_sealed_and_plaintext_values_and_refuses_a_sealed_one_without_its_key() {
        let (account, customer, row) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let key = Key::random();
        let sealer = Sealer::new(account, customer, key.clone());
        let sealed = sealer.seal("messages", "body", row, "hello");
        let opener = Opener::new(account, customer, Some(key));
        assert_eq!(
            opener
                .required("messages", "body", row, None, Some(&sealed))
                .as_deref(),
            Ok("hello")
        );
        assert_eq!(
            opener.value("calls", "notes", row, Some("old".into()), None),
            Ok(Some("old".into()))
        );
        assert_eq!(opener.value("calls", "notes", row, None, None), Ok(None));
        assert!(
            opener
                .required("messages", "body", Uuid::new_v4(), None, Some(&sealed))
                .is_err()
        );
        let without_key = Opener::new(account, customer, None);
        assert!(
            without_key
                .value("messages", "body", row, None, Some(&sealed))
                .is_err()
        );
        assert_eq!(sealer.seal_optional("calls", "notes", row, None), None);
    }

    #[test]
    fn table_and_column_names_cannot_run_into_each_other() {
        let key = Key::random();
        let here = Place {
            table: "ab",
            column: "c",
            ..place()
        };
        let sealed = seal_text(&key, &here, "x");
        assert!(
            open_text(
                &key,
                &Place {
                    table: "a",
                    column: "bc",
                    ..here
                },
                &sealed
            )
            .is_err()
        );
    }
}
