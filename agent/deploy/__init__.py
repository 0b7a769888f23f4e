"""What a site installs around plantagent: the hardened systemd unit of the service,
generated from the site's settings and policy (`plantagent deploy systemd-unit`)."""
