"""IAM replay: every AWS call the product's roles make on the emulator, judged by those roles' policies.

moto does not authorise calls, so a role missing a permission passes every test and fails on the
first real run (issue 12 item 4 was such a case). The replay closes that gap:

* :mod:`.recorder` notes each call made with credentials of an assumed role (the Lambdas run as
  their execution role, the runbooks as their ``AutomationAssumeRole``), with its parameters;
* :mod:`.resources` turns a call into the IAM action and the resource ARNs AWS authorises it on,
  from the Service Authorization Reference data that parliament ships (plus the implicit
  ``iam:PassRole`` a call makes when it hands a role to a service);
* :mod:`.context` builds the request context the policies' conditions read (resource tags,
  request tags, principal account/organization);
* :mod:`.evaluate` applies the role's identity policies, permissions boundary, S3 bucket policies
  and the KMS key policy S3 uses on the caller's behalf, with IAM's evaluation order;
  :mod:`.policy_logic` matches statements (wildcards, policy variables, condition operators).

A call that the role would not be allowed is a :class:`Denial` naming the role, action and
resource; a call the replay cannot map is reported as unmapped, never silently passed.

Importing :mod:`.recorder` is cheap (the emulator does it so every session carries the hooks);
the evaluator and the reference data load on the first judged call.
"""
