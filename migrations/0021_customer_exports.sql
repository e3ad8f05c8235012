-- A customer's calls and messages handed over as a ZIP (Export on the customer page) are recorded in the audit
-- log like every other read of customer data.
insert into audit_actions (action) values ('customer_exported');
