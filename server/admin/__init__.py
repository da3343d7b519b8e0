"""Administration as data: role assignments and API tokens, each change authorised by domain and audited."""
