from django.dispatch import Signal

# Sent by `seed_demo` after the demo accounts and users exist, so that other apps add their
# part (staff teams and permissions, demo data) without accounts importing them.
# Arguments: users (dict email -> User), password.
demo_data_seeded = Signal()
