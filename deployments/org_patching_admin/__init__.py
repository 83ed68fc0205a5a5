"""org-patching's admin program: Pulumi Deployments settings and schedules, kept apart from the stacks they drive."""
