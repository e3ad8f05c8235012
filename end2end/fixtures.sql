-- End-to-end fixtures on top of the demo data: a record whose name, email and message carry markup, to prove
-- that the console shows such text as text.
insert into customers (account_id, salesforce_id, object_type, name, email, phone)
select id, '00Q5e00XssProbeEEB', 'Lead', 'Robin <script>window.__xss = 1</script> Probe', 'xss.probe@example.com', '+14155550999'
from accounts where name = 'Acme Corp'
on conflict do nothing;

insert into messages (account_id, customer_id, direction, from_number, to_number, body, sent_at)
select c.account_id, c.id, 'inbound', '+14155550999', '+14155559000',
       '<img src=x onerror="window.__xss = 2"> hello <b>bold</b>', now() - interval '1 day'
from customers c where c.salesforce_id = '00Q5e00XssProbeEEB'
  and not exists (select 1 from messages m where m.customer_id = c.id);

-- A person with one Lead and one call, erased by the requests spec through the request endpoint.
insert into customers (account_id, salesforce_id, object_type, name, email, phone)
select id, '00Q5e00ReqProbeAAA', 'Lead', 'Sam Request', 'sam.request@example.com', '+14155550777'
from accounts where name = 'Acme Corp'
on conflict do nothing;

insert into calls (account_id, customer_id, direction, from_number, to_number, started_at, duration_seconds)
select c.account_id, c.id, 'inbound', '+14155550777', '+14155559000', now() - interval '3 days', 42
from customers c where c.salesforce_id = '00Q5e00ReqProbeAAA'
  and not exists (select 1 from calls k where k.customer_id = c.id);

-- Records of the flows specs, each with one message so that it has data to erase: one erased from two tabs
-- (Taylor), one person who is a Lead and a Contact (Sam), and one erased after the password is asked again
-- (Riley).
insert into customers (account_id, salesforce_id, object_type, name, email, phone)
select a.id, f.salesforce_id, f.object_type, f.name, f.email, f.phone
from accounts a,
     (values ('00Q5e00TwoTabsAAAA', 'Lead', 'Taylor Twotabs', 'taylor.twotabs@example.com', '+14155550901'),
             ('00Q5e00SamPairAAAA', 'Lead', 'Sam Pair', 'sam.pair@example.com', '+14155550902'),
             ('0035e00SamPairAAAA', 'Contact', 'Sam Pair', 'sam.pair@example.com', '+14155550902'),
             ('00Q5e00RileyReAAAA', 'Lead', 'Riley Recheck', 'riley.recheck@example.com', '+14155550903'))
       as f (salesforce_id, object_type, name, email, phone)
where a.name = 'Acme Corp'
on conflict do nothing;

insert into messages (account_id, customer_id, direction, from_number, to_number, body, sent_at)
select c.account_id, c.id, 'inbound', c.phone, '+14155559000', 'Hello from ' || c.name, now() - interval '2 days'
from customers c
where c.salesforce_id in ('00Q5e00TwoTabsAAAA', '00Q5e00SamPairAAAA', '0035e00SamPairAAAA', '00Q5e00RileyReAAAA')
  and not exists (select 1 from messages m where m.customer_id = c.id);

-- Records of the request lifecycle specs, each with one message: one deleted under a 24-hour hold and then
-- cancelled (Harper), and one whose deletion needs another Admin's approval (Avery).
insert into customers (account_id, salesforce_id, object_type, name, email, phone)
select a.id, f.salesforce_id, f.object_type, f.name, f.email, f.phone
from accounts a,
     (values ('00Q5e00HarperHAAAA', 'Lead', 'Harper Hold', 'harper.hold@example.com', '+14155550911'),
             ('00Q5e00AveryApAAAA', 'Lead', 'Avery Approval', 'avery.approval@example.com', '+14155550912'))
       as f (salesforce_id, object_type, name, email, phone)
where a.name = 'Acme Corp'
on conflict do nothing;

insert into messages (account_id, customer_id, direction, from_number, to_number, body, sent_at)
select c.account_id, c.id, 'inbound', c.phone, '+14155559000', 'Hello from ' || c.name, now() - interval '2 days'
from customers c
where c.salesforce_id in ('00Q5e00HarperHAAAA', '00Q5e00AveryApAAAA')
  and not exists (select 1 from messages m where m.customer_id = c.id);

-- The people of the person-erasure spec, each a Lead and a Contact sharing an email and a phone number. Jordan
-- is not used: customer-data.spec.ts erases Jordan's Lead earlier in this shared database. Morgan also has an
-- Account, which the spec erases on its own first (shown as skipped), and activity of every kind; Quinn is
-- given a new duplicate while the dialog is open (409); Hollis's request is held by a 24-hour hold, then
-- cancelled.
insert into customers (account_id, salesforce_id, object_type, name, email, phone, phone_e164)
select a.id, f.salesforce_id, f.object_type, f.name, f.email, f.phone, f.phone
from accounts a,
     (values ('00Q5e00MorganPAAAA', 'Lead', 'Morgan Person', 'morgan.person@example.com', '+14155550921'),
             ('0035e00MorganPAAAA', 'Contact', 'Morgan Person', 'morgan.person@example.com', '+14155550921'),
             ('0015e00MorganPAAAA', 'Account', 'Morgan Person', 'morgan.person@example.com', '+14155550921'),
             ('00Q5e00QuinnCoAAAA', 'Lead', 'Quinn Conflict', 'quinn.conflict@example.com', '+14155550922'),
             ('0035e00QuinnCoAAAA', 'Contact', 'Quinn Conflict', 'quinn.conflict@example.com', '+14155550922'),
             ('00Q5e00HollisHAAAA', 'Lead', 'Hollis Hold', 'hollis.hold@example.com', '+14155550923'),
             ('0035e00HollisHAAAA', 'Contact', 'Hollis Hold', 'hollis.hold@example.com', '+14155550923'))
       as f (salesforce_id, object_type, name, email, phone)
where a.name = 'Acme Corp'
on conflict do nothing;

-- Morgan's Lead: a recorded call with a transcript, a voicemail and a message with one media file; the Contact:
-- one call and two messages; the Account: one message. Quinn's and Hollis's records: one message each.
insert into calls (account_id, customer_id, direction, from_number, to_number, started_at, duration_seconds,
                   transcript, is_voicemail, recording_key)
select c.account_id, c.id, f.direction, c.phone, '+14155559000', now() - f.ago, f.seconds, f.transcript, f.voicemail,
       case when f.recorded then 'recordings/' || c.account_id || '/fixture-' || c.salesforce_id || f.n || '.mp3' end
from customers c
join (values ('00Q5e00MorganPAAAA', 1, 'inbound', interval '20 days', 300, 'Please delete my data.', false, true),
             ('00Q5e00MorganPAAAA', 2, 'inbound', interval '19 days', 40, null, true, true),
             ('0035e00MorganPAAAA', 1, 'outbound', interval '5 days', 120, null, false, false))
     as f (salesforce_id, n, direction, ago, seconds, transcript, voicemail, recorded)
  on f.salesforce_id = c.salesforce_id
where not exists (select 1 from calls k where k.customer_id = c.id);

insert into messages (account_id, customer_id, direction, from_number, to_number, body, sent_at, media_keys)
select c.account_id, c.id, 'inbound', c.phone, '+14155559000', 'Message ' || f.n || ' from ' || c.name, now() - f.ago,
       case when f.media then array['media/' || c.account_id || '/fixture-' || c.salesforce_id || '.jpg'] else '{}' end
from customers c
join (values ('00Q5e00MorganPAAAA', 1, interval '18 days', true),
             ('0035e00MorganPAAAA', 1, interval '4 days', false),
             ('0035e00MorganPAAAA', 2, interval '3 days', false),
             ('0015e00MorganPAAAA', 1, interval '10 days', false),
             ('00Q5e00QuinnCoAAAA', 1, interval '2 days', false),
             ('0035e00QuinnCoAAAA', 1, interval '2 days', false),
             ('00Q5e00HollisHAAAA', 1, interval '2 days', false),
             ('0035e00HollisHAAAA', 1, interval '2 days', false))
     as f (salesforce_id, n, ago, media)
  on f.salesforce_id = c.salesforce_id
where not exists (select 1 from messages m where m.customer_id = c.id and m.body = 'Message ' || f.n || ' from ' || c.name);

-- A record erased by tests/python/verify_receipt.py, whose receipt jwcrypto verifies: one call with a recording
-- (its file is never stored, and a file already gone counts as deleted) and one message.
insert into customers (account_id, salesforce_id, object_type, name, email, phone)
select id, '00Q5e00RcptProbeAA', 'Lead', 'Quinn Receipt', 'quinn.receipt@example.com', '+14155550888'
from accounts where name = 'Acme Corp'
on conflict do nothing;

insert into calls (account_id, customer_id, direction, from_number, to_number, started_at, duration_seconds,
                   recording_key)
select c.account_id, c.id, 'inbound', '+14155550888', '+14155559000', now() - interval '2 days', 30,
       'recordings/' || c.account_id || '/receipt-probe.wav'
from customers c where c.salesforce_id = '00Q5e00RcptProbeAA'
  and not exists (select 1 from calls k where k.customer_id = c.id);

insert into messages (account_id, customer_id, direction, from_number, to_number, body, sent_at)
select c.account_id, c.id, 'inbound', '+14155550888', '+14155559000', 'receipt probe message', now() - interval '1 day'
from customers c where c.salesforce_id = '00Q5e00RcptProbeAA'
  and not exists (select 1 from messages m where m.customer_id = c.id);

-- A record erased by audit.spec.ts, so that the audit page's chart has a day to show: one call and one message.
insert into customers (account_id, salesforce_id, object_type, name, email, phone, phone_e164)
select id, '00Q5e00AuditPrbAAA', 'Lead', 'Avery Audit', 'avery.audit@example.com', '+14155550889', '+14155550889'
from accounts where name = 'Acme Corp'
on conflict do nothing;

insert into calls (account_id, customer_id, direction, from_number, to_number, started_at, duration_seconds)
select c.account_id, c.id, 'inbound', c.phone, '+14155559000', now() - interval '3 days', 45
from customers c
where c.salesforce_id = '00Q5e00AuditPrbAAA' and not exists (select 1 from calls k where k.customer_id = c.id);

insert into messages (account_id, customer_id, direction, from_number, to_number, body, sent_at, media_keys)
select c.account_id, c.id, 'inbound', c.phone, '+14155559000', 'Message 1 from Avery Audit', now() - interval '3 days', '{}'
from customers c
where c.salesforce_id = '00Q5e00AuditPrbAAA' and not exists (select 1 from messages m where m.customer_id = c.id);

-- The people of suppression.spec.ts, each a Lead and a Contact sharing an email and a phone number, with one
-- message each: Sloane is erased with the dialog's suppression box left ticked (and one entry lifted), Ursula with
-- it cleared. Their Salesforce ids carry valid checksums, as the suppression list hashes parsed ids.
insert into customers (account_id, salesforce_id, object_type, name, email, phone, phone_e164)
select a.id, f.salesforce_id, f.object_type, f.name, f.email, f.phone, f.phone
from accounts a,
     (values ('00Q5e00SloaneSLEEY', 'Lead', 'Sloane Suppressed', 'sloane.suppressed@example.com', '+14155550931'),
             ('0035e00SloaneSCAEY', 'Contact', 'Sloane Suppressed', 'sloane.suppressed@example.com', '+14155550931'),
             ('00Q5e00UrsulaULEEY', 'Lead', 'Ursula Unlisted', 'ursula.unlisted@example.com', '+14155550932'),
             ('0035e00UrsulaUCAEY', 'Contact', 'Ursula Unlisted', 'ursula.unlisted@example.com', '+14155550932'))
       as f (salesforce_id, object_type, name, email, phone)
where a.name = 'Acme Corp'
on conflict do nothing;

insert into messages (account_id, customer_id, direction, from_number, to_number, body, sent_at)
select c.account_id, c.id, 'inbound', c.phone, '+14155559000', 'Hello from ' || c.name, now() - interval '2 days'
from customers c
where c.email in ('sloane.suppressed@example.com', 'ursula.unlisted@example.com')
  and not exists (select 1 from messages m where m.customer_id = c.id);

-- The person of tests/python/api_client_flow.py, which erases them through the public API: a Lead and a Contact
-- sharing an email and a phone number, with one message each.
insert into customers (account_id, salesforce_id, object_type, name, email, phone, phone_e164)
select a.id, f.salesforce_id, f.object_type, 'Pia Platform', 'pia.platform@example.com', '+14155550941', '+14155550941'
from accounts a,
     (values ('00Q5e00PiaPlatLEER', 'Lead'), ('0035e00PiaPlatCAER', 'Contact')) as f (salesforce_id, object_type)
where a.name = 'Acme Corp'
on conflict do nothing;

insert into messages (account_id, customer_id, direction, from_number, to_number, body, sent_at)
select c.account_id, c.id, 'inbound', c.phone, '+14155559000', 'Hello from ' || c.name, now() - interval '2 days'
from customers c
where c.email = 'pia.platform@example.com'
  and not exists (select 1 from messages m where m.customer_id = c.id);

-- People of the bulk erasure spec, named in the CSVs it uploads: a Lead with a message (Bea), a Lead and a
-- Contact sharing an email, each with a call (Bo), and a Lead with a message whose erasure waits for approval
-- (Lou).
insert into customers (account_id, salesforce_id, object_type, name, email, phone)
select a.id, f.salesforce_id, f.object_type, f.name, f.email, f.phone
from accounts a,
     (values ('00Q5e00BulkBeaAAAA', 'Lead', 'Bea Bulk', 'bea.bulk@example.com', '+14155550941'),
             ('00Q5e00BulkLouAAAA', 'Lead', 'Lou Live', 'lou.live@example.com', '+14155550943'),
             ('00Q5e00BulkBoAAAAA', 'Lead', 'Bo Bulk', 'bo.bulk@example.com', '+14155550942'),
             ('0035e00BulkBoAAAAA', 'Contact', 'Bo Bulk', 'bo.bulk@example.com', '+14155550942'))
       as f (salesforce_id, object_type, name, email, phone)
where a.name = 'Acme Corp'
on conflict do nothing;

insert into messages (account_id, customer_id, direction, from_number, to_number, body, sent_at)
select c.account_id, c.id, 'inbound', c.phone, '+14155559000', 'Hello from ' || c.name, now() - interval '2 days'
from customers c
where c.salesforce_id in ('00Q5e00BulkBeaAAAA', '00Q5e00BulkLouAAAA')
  and not exists (select 1 from messages m where m.customer_id = c.id);

insert into calls (account_id, customer_id, direction, from_number, to_number, started_at, duration_seconds)
select c.account_id, c.id, 'outbound', '+14155559000', c.phone, now() - interval '4 days', 60
from customers c where c.salesforce_id in ('00Q5e00BulkBoAAAAA', '0035e00BulkBoAAAAA')
  and not exists (select 1 from calls k where k.customer_id = c.id);
