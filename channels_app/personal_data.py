"""What channels_app holds about a person, registered with privacy's registry (export, erasure)."""
