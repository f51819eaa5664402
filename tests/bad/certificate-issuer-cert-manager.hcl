# A cert-manager issuer without the ClusterIssuer to use.

issuer "letsencrypt" {
  type = "cert-manager" # expect: error certificate::issuer
}

certificate "shop" {
  dns_names = ["shop.example.com", "www.shop.example.com"]
  issuer    = issuer.letsencrypt
}
