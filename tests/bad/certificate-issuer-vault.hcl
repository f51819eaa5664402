# A Vault issuer needs the External Secrets store to read through.

issuer "vault" {
  type       = "vault" # expect: error certificate::issuer
  vault_path = "secret/risk/market-feed"
}

certificate "market-feed" {
  dns_names = ["market-feed.risk.svc.clusterset.local"]
  issuer    = issuer.vault
}
