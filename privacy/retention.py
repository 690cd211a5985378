"""privacy's retention policies (the PRD's table), registered with privacy.retention."""
