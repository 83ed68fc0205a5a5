"""``python deployments/gate.py --stack ORG/PROJECT/STACK --central ORG/PROJECT/central``: the
pre-run gate of child stack runs (Pulumi Deployments and main.yml). See org_patching_admin/gate.py."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from org_patching_admin.gate import main

sys.exit(main())
