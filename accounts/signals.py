from django.dispatch import Signal

# Sent when a view refuses an actor for lack of a capability.
# Arguments: request, actor, capability. remote_access listens to audit blocked attempts.
capability_denied = Signal()
