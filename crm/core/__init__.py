"""Small pieces every feature uses: time, errors, pagination."""
