"""One blueprint per audience: auth, student, staff, desk, admin."""
