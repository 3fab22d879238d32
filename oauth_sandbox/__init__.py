"""OAuth Sandbox: four documented token APIs on one shared OAuth core."""
