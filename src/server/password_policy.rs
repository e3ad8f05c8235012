//! What `create-user` accepts as a new user's password: at least `MIN_PASSWORD_CHARS` characters, at most the
//! `MAX_PASSWORD_BYTES` the sign-in checks, and none of what a guesser tries first: a well-known password, a
//! word of the account name, the user's name or email, a repeated part, a run of keys or of letters or digits in
//! order, or a handful of different characters.
//!
//! The list of well-known passwords (`common_passwords.txt`, about a thousand entries) was written from memory of
//! the top of public breach lists, with common words and first names: no list could be downloaded where it was
//! made, so it is no breach corpus. It is matched after lower-casing, undoing the usual digit-for-letter swaps
//! and taking digits and symbols off both ends, so `Dragon2024!` and `P@ssw0rd` count as `dragon` and
//! `password`.

use crate::server::auth::MAX_PASSWORD_BYTES;

/// The fewest characters a new user's password may have.
pub const MIN_PASSWORD_CHARS: usize = 12;

const COMMON_PASSWORDS: &str = include_str!("common_passwords.txt");

/// Runs of keys or characters in order; a password inside one of them, forwards or backwards and wrapping
/// around, is refused.
const SEQUENCES: [&str; 8] = [
    "abcdefghijklmnopqrstuvwxyz",
    "0123456789",
    "qwertyuiopasdfghjklzxcvbnm",
    "qwertzuiopasdfghjklyxcvbnm",
    "azertyuiopqsdfghjklmwxcvbn",
    "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p",
    "qazwsxedcrfvtgbyhnujmikolp",
    "!@#$%^&*()",
];

/// Fewer different characters than this is refused.
const MIN_DIFFERENT_CHARS: usize = 5;

/// Words of the account name, the user's name or email shorter than this are not looked for.
const MIN_PERSONAL_WORD_CHARS: usize = 4;

/// Why `password` will not do for a new user, as one line, or `Ok`. `personal` holds the account name, the
/// user's name and email: the password may contain none of their words.
pub fn check_new_password(password: &str, personal: &[&str]) -> Result<(), String> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(format!(
            "the password needs at least {MIN_PASSWORD_CHARS} characters"
        ));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(format!(
            "the password may have at most {MAX_PASSWORD_BYTES} bytes, the most a sign-in accepts"
        ));
    }
    let lower = password.to_lowercase();
    if contains_personal_word(&lower, personal) {
        return Err(
            "the password contains a word of the account name, the user's name or email".into(),
        );
    }
    let mut different: Vec<char> = lower.chars().collect();
    different.sort_unstable();
    different.dedup();
    if different.len() < MIN_DIFFERENT_CHARS {
        return Err(format!(
            "the password needs at least {MIN_DIFFERENT_CHARS} different characters"
        ));
    }
    for candidate in candidates(&lower) {
        if COMMON_PASSWORDS.lines().any(|common| common == candidate) {
            return Err(
                "the password is a well-known one, or one with digits or symbols added: choose another"
                    .into(),
            );
        }
        let long_enough = candidate.chars().count() >= 6;
        if long_enough && is_repetition(&candidate) {
            return Err("the password repeats a shorter part: choose another".into());
        }
        if long_enough && is_sequence(&candidate) {
            return Err(
                "the password is a run of keys or of letters or digits in order: choose another"
                    .into(),
            );
        }
    }
    Ok(())
}

/// The forms of `lower` a guesser's list would hold: as typed, with symbols or with digits and symbols taken
/// off both ends, and each with the usual digit-for-letter swaps undone.
fn candidates(lower: &str) -> Vec<String> {
    let trimmed = lower.trim_matches(|c: char| !c.is_alphanumeric());
    let letters = lower.trim_matches(|c: char| !c.is_alphabetic());
    let mut all: Vec<String> = [lower, trimmed, letters]
        .iter()
        .flat_map(|form| [form.to_string(), unswapped(form)])
        .filter(|form| !form.is_empty())
        .collect();
    all.sort_unstable();
    all.dedup();
    all
}

/// `text` with the digits and symbols that stand for letters (`p@ssw0rd`) turned back into them.
fn unswapped(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '0' => 'o',
            '1' => 'i',
            '3' => 'e',
            '4' | '@' => 'a',
            '5' | '$' => 's',
            '7' => 't',
            other => other,
        })
        .collect()
}

fn contains_personal_word(lower: &str, personal: &[&str]) -> bool {
    let letters_and_digits = |text: &str| -> String {
        text.chars()
            .filter(|c| c.is_alphanumeric())
            .collect::<String>()
    };
    let plain = letters_and_digits(lower);
    let unswapped = letters_and_digits(&unswapped(lower));
    personal
        .iter()
        .flat_map(|text| text.split(|c: char| !c.is_alphanumeric()))
        .map(str::to_lowercase)
        .filter(|word| word.chars().count() >= MIN_PERSONAL_WORD_CHARS)
        .any(|word| plain.contains(&word) || unswapped.contains(&word))
}

/// Whether `text` is one shorter part said two or more times (`abcabcabc`).
fn is_repetition(text: &str) -> bool {
    let chars: Vec<char> = text.chars().collect();
    (1..=chars.len() / 2)
        .filter(|part| chars.len().is_multiple_of(*part))
        .any(|part| chars.chunks(part).all(|chunk| chunk == &chars[..part]))
}

/// Whether `text` lies inside one of the `SEQUENCES`, forwards or backwards, wrapping around.
fn is_sequence(text: &str) -> bool {
    SEQUENCES.iter().any(|sequence| {
        let twice = sequence.repeat(2);
        let backwards: String = twice.chars().rev().collect();
        twice.contains(text) || backwards.contains(text)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PERSONAL: [&str; 3] = ["Initech", "Peter Gibbons", "Peter.Gibbons@initech.example"];

    fn refused(password: &str) -> bool {
        check_new_password(password, &PERSONAL).is_err()
    }

    #[test]
    fn long_unusual_passwords_and_passphrases_pass() {
        for password in [
            "a-long-enough-password",
            "correct horse battery stable",
            "Vq7#mZ2!pL9x",
            "orbit-lantern-mosaic-42",
        ] {
            assert_eq!(
                check_new_password(password, &PERSONAL),
                Ok(()),
                "{password}"
            );
        }
    }

    #[test]
    fn too_short_or_longer_than_sign_in_accepts_is_refused() {
        assert!(
            check_new_password("Vq7#mZ2!pL9", &PERSONAL)
                .unwrap_err()
                .contains("12 characters")
        );
        let long = "Vq7#mZ2!pL9x".repeat(90);
        assert!(long.len() > MAX_PASSWORD_BYTES);
        assert!(
            check_new_password(&long, &PERSONAL)
                .unwrap_err()
                .contains("1024 bytes")
        );
    }

    #[test]
    fn well_known_passwords_with_digits_symbols_or_swaps_are_refused() {
        for password in [
            "password1234",
            "P@ssw0rd2024!",
            "Dragon2024!!",
            "qwerty123456",
            "1qaz2wsx3edc",
            "iloveyou2024",
            "Welcome12345",
            "!!Monkey1234",
        ] {
            assert!(refused(password), "{password}");
        }
    }

    #[test]
    fn personal_words_are_refused() {
        for password in ["initech-2024-rocks", "Gibbons!9876x", "xx-1n1t3ch-xx-yy"] {
            assert!(refused(password), "{password}");
        }
    }

    #[test]
    fn repetitions_sequences_and_few_characters_are_refused() {
        for password in [
            "aaaaaaaaaaaaaaaa",
            "abcabcabcabc",
            "Xy7!Xy7!Xy7!",
            "abcdefghijklmn",
            "9876543210987",
            "qwertyuiopasdf",
            "lkjhgfdsapoiu",
            "1qaz2wsx3edc4rfv",
            "ababababab12",
        ] {
            assert!(refused(password), "{password}");
        }
    }

    #[test]
    fn the_list_is_lower_case_and_has_no_blank_lines() {
        assert!(COMMON_PASSWORDS.lines().count() > 1000);
        assert!(
            COMMON_PASSWORDS
                .lines()
                .all(|entry| !entry.trim().is_empty() && entry == entry.to_lowercase())
        );
    }
}
