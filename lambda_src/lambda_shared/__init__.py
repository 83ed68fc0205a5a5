"""What every org-patching Lambda shares at run time, bundled beside ``app.py`` in every archive.

``components.packaging.archive`` copies this package into each deployment package, so a handler
imports it as the top-level package ``lambda_shared`` (as it imports ``tag_contract``); the
repository installs it under the same name for the tests, the emulator and the demo.

* :mod:`lambda_shared.clients`: boto3 clients whose retries come from the function's environment;
* :mod:`lambda_shared.fleet`: the paged describes and the tagging calls of one account and region;
* :mod:`lambda_shared.tagging`: the contract's decision per resource, writes grouped by tag set, and
  applying them with one error entry per failed call;
* :mod:`lambda_shared.observability`: the account a function runs in, and the Powertools metrics of
  an outcome.

Pure Python over boto3 and Powertools (both in the Lambda runtime and its layer): no other dependency.
"""
