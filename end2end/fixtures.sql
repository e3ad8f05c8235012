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
