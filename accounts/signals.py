from django.dispatch import Signal

# Sent when a view refuses an actor for lack of a capability.
# Arguments: request, actor, capability. remote_access listens to audit blocked attempts.
capability_denied = Signal()

# Sent by `seed_demo` after the demo accounts and users exist, so that other apps add their
# part (staff teams and permissions, demo data) without accounts importing them.
# Arguments: users (dict email -> User), password.
demo_data_seeded = Signal()

# Sent before a plan change; a receiver returns a message when the change must be refused
# (audience: "you have 1,200 profiles; Free allows 1,000"), else None.
# Arguments: account, plan (PlanDetails of the plan asked for).
plan_change_checks = Signal()
