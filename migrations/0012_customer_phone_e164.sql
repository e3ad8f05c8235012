-- Search by phone number: each customer's phone in E.164 (`+14155550142`), normalized by the console with the
-- `phonenumber` crate, and the account's default country for numbers written without a country code (ISO 3166
-- alpha-2; `US` for the accounts that exist). A phone that is not a valid number has no `phone_e164` and is
-- found by no phone search. Like `phone`, it mirrors the Salesforce record and stays after an erasure.
alter table accounts
    add column default_country text not null default 'US' check (default_country ~ '^[A-Z]{2}$');

alter table customers
    add column phone_e164 text check (phone_e164 ~ '^\+[1-9][0-9]{6,14}$');

-- Phones already stored in E.164 are their own normalized form; the others are normalized by the console after
-- the migrations (`db::customers::normalize_stored_phones`), which this partial index lets it find.
update customers set phone_e164 = phone where phone ~ '^\+[1-9][0-9]{6,14}$';

create index customers_phone_idx on customers (account_id, phone_e164) where phone_e164 is not null;
create index customers_phone_unnormalized_idx on customers (id) where phone is not null and phone_e164 is null;
