//! Salesforce record ids: parsing the 15-character (case-sensitive) and 18-character (with a case checksum)
//! forms into one canonical 18-character id, and naming the object type from the 3-character key prefix.
//! Shared by the server (search, seeding) and the browser (instant feedback on a malformed id).

use std::fmt;

const CHECKSUM_ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";

/// A valid Salesforce id in its canonical 18-character form.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SalesforceId(String);

/// Why a text is not a Salesforce id; its `Display` is the sentence shown to the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SalesforceIdError {
    /// Neither 15 nor 18 characters (after trimming).
    WrongLength,
    /// A character other than an ASCII letter or digit.
    InvalidCharacter,
    /// An 18-character id whose last 3 characters are not the checksum of its first 15.
    ChecksumMismatch,
}

impl fmt::Display for SalesforceIdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SalesforceIdError::WrongLength => "A Salesforce ID has 15 or 18 characters.",
            SalesforceIdError::InvalidCharacter => "A Salesforce ID has only letters and digits.",
            SalesforceIdError::ChecksumMismatch => {
                "The last 3 characters of this 18-character Salesforce ID do not match the first 15."
            }
        })
    }
}

/// The 3-character checksum Salesforce appends to a 15-character id: one character per block of five, encoding
/// which of the five are upper-case letters.
fn checksum(id15: &[u8]) -> [u8; 3] {
    let mut out = [0u8; 3];
    for (block, slot) in id15.chunks(5).zip(out.iter_mut()) {
        let bits = block
            .iter()
            .enumerate()
            .filter(|(_, c)| c.is_ascii_uppercase())
            .fold(0usize, |acc, (i, _)| acc | (1 << i));
        *slot = CHECKSUM_ALPHABET[bits];
    }
    out
}

impl SalesforceId {
    /// Parses either form. An 18-character id is accepted in any letter case: its checksum says which letters
    /// of the first 15 are upper-case, so the canonical form is restored from it.
    pub fn parse(input: &str) -> Result<Self, SalesforceIdError> {
        let bytes = input.trim().as_bytes();
        if bytes.len() != 15 && bytes.len() != 18 {
            return Err(SalesforceIdError::WrongLength);
        }
        if !bytes.iter().all(u8::is_ascii_alphanumeric) {
            return Err(SalesforceIdError::InvalidCharacter);
        }
        let mut id15: Vec<u8> = bytes[..15].to_vec();
        if bytes.len() == 18 {
            let suffix: Vec<u8> = bytes[15..].iter().map(u8::to_ascii_uppercase).collect();
            for (block, code) in id15.chunks_mut(5).zip(&suffix) {
                let bits = CHECKSUM_ALPHABET
                    .iter()
                    .position(|c| c == code)
                    .ok_or(SalesforceIdError::ChecksumMismatch)?;
                for (i, c) in block.iter_mut().enumerate() {
                    let upper = bits & (1 << i) != 0;
                    if upper && !c.is_ascii_alphabetic() {
                        return Err(SalesforceIdError::ChecksumMismatch);
                    }
                    *c = if upper {
                        c.to_ascii_uppercase()
                    } else {
                        c.to_ascii_lowercase()
                    };
                }
            }
        }
        let sum = checksum(&id15);
        id15.extend_from_slice(&sum);
        String::from_utf8(id15)
            .map(SalesforceId)
            .map_err(|_| SalesforceIdError::InvalidCharacter)
    }

    /// The canonical 18-character form.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The case-sensitive 15-character form.
    pub fn short(&self) -> &str {
        &self.0[..15]
    }

    /// The record type named by the key prefix, when it is one the console knows.
    pub fn object_type(&self) -> Option<&'static str> {
        match &self.0[..3] {
            "00Q" => Some("Lead"),
            "003" => Some("Contact"),
            "001" => Some("Account"),
            "006" => Some("Opportunity"),
            "005" => Some("User"),
            _ => None,
        }
    }
}

/// The key prefix of a record type, the inverse of `SalesforceId::object_type`.
pub fn key_prefix(object_type: &str) -> Option<&'static str> {
    match object_type {
        "Lead" => Some("00Q"),
        "Contact" => Some("003"),
        "Account" => Some("001"),
        "Opportunity" => Some("006"),
        "User" => Some("005"),
        _ => None,
    }
}

impl fmt::Display for SalesforceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether a search text looks like an attempt at a Salesforce id rather than a name or an email.
pub fn looks_like_id(input: &str) -> bool {
    let t = input.trim();
    !t.contains('@')
        && !t.contains(' ')
        && (t.len() == 15 || t.len() == 18)
        && t.chars().any(|c| c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adds_the_known_checksum_to_a_15_character_id() {
        let id = SalesforceId::parse("0035e00000BVdXC").unwrap();
        assert_eq!(id.as_str(), "0035e00000BVdXCAA1");
        assert_eq!(id.short(), "0035e00000BVdXC");
        assert_eq!(id.object_type(), Some("Contact"));
    }

    #[test]
    fn both_forms_normalize_to_the_same_id() {
        let short = SalesforceId::parse("00Q5e00000AbCdE").unwrap();
        let long = SalesforceId::parse(short.as_str()).unwrap();
        assert_eq!(short, long);
        assert_eq!(long.object_type(), Some("Lead"));
    }

    #[test]
    fn an_18_character_id_in_the_wrong_case_is_restored_from_its_checksum() {
        let canonical = SalesforceId::parse("00Q5e00000AbCdE").unwrap();
        let lowered = canonical.as_str().to_ascii_lowercase();
        assert_eq!(SalesforceId::parse(&lowered).unwrap(), canonical);
    }

    #[test]
    fn a_wrong_checksum_is_refused() {
        assert_eq!(
            SalesforceId::parse("0035e00000BVdXCZZZ"),
            Err(SalesforceIdError::ChecksumMismatch)
        );
        assert_eq!(
            SalesforceId::parse("0035e00000BVdXCAA9"),
            Err(SalesforceIdError::ChecksumMismatch)
        );
    }

    #[test]
    fn wrong_lengths_and_characters_are_refused() {
        assert_eq!(
            SalesforceId::parse("0035e00000BVdX"),
            Err(SalesforceIdError::WrongLength)
        );
        assert_eq!(SalesforceId::parse(""), Err(SalesforceIdError::WrongLength));
        assert_eq!(
            SalesforceId::parse("0035e00000BVd%C"),
            Err(SalesforceIdError::InvalidCharacter)
        );
        assert_eq!(
            SalesforceId::parse("0035e00000BVdéC"),
            Err(SalesforceIdError::WrongLength)
        );
    }

    #[test]
    fn key_prefixes_and_object_types_are_inverse() {
        for object_type in ["Lead", "Contact", "Account", "Opportunity", "User"] {
            let prefix = key_prefix(object_type).unwrap();
            let id = SalesforceId::parse(&format!("{prefix}5e0000AbCdEf")).unwrap();
            assert_eq!(id.object_type(), Some(object_type));
        }
        assert_eq!(key_prefix("Case"), None);
    }

    #[test]
    fn distinguishes_ids_from_emails_and_names() {
        assert!(looks_like_id("0035e00000BVdXC"));
        assert!(!looks_like_id("jordan@example.com"));
        assert!(!looks_like_id("Blair"));
    }

    #[test]
    fn only_15_or_18_characters_with_a_digit_and_no_at_or_space_look_like_an_id() {
        assert!(looks_like_id("0035e00000BVdXCAA1"));
        assert!(looks_like_id(" 0035e00000BVdXC "));
        assert!(!looks_like_id("ab1@example.com"), "15 characters, but an @");
        assert!(
            !looks_like_id("0035e00000 BVdX"),
            "15 characters, but a space"
        );
        assert!(!looks_like_id("0035e00000BVdX"), "14 characters");
        assert!(!looks_like_id("0035e00000BVdXCA"), "16 characters");
        assert!(!looks_like_id("abcdefghijklmno"), "15 characters, no digit");
        assert!(!looks_like_id("12345"), "digits, but 5 of them");
    }

    #[test]
    fn each_refusal_says_what_is_wrong() {
        assert_eq!(
            SalesforceIdError::WrongLength.to_string(),
            "A Salesforce ID has 15 or 18 characters."
        );
        assert_eq!(
            SalesforceIdError::InvalidCharacter.to_string(),
            "A Salesforce ID has only letters and digits."
        );
        assert_eq!(
            SalesforceIdError::ChecksumMismatch.to_string(),
            "The last 3 characters of this 18-character Salesforce ID do not match the first 15."
        );
    }

    #[test]
    fn an_id_shows_as_its_canonical_18_characters() {
        let id = SalesforceId::parse("0035e00000BVdXC").unwrap();
        assert_eq!(id.to_string(), "0035e00000BVdXCAA1");
    }
}
