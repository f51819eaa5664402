# Kubernetes names: a namespace must be a DNS label, a Secret name a DNS subdomain.

cluster "eu" {
  version = "1.31"
  region  = "eu-west-1"
  subnets = ["subnet-eu-a"]
}

issuer "bank" {
  type = "ca"
}

certificate "api" {
  dns_names   = ["api.risk.svc.clusterset.local"]
  issuer      = issuer.bank
  secret_name = "API_tls" # expect: error schema::name
}

service "api" {
  replicas    = 2
  image       = "registry.bank.internal/risk/api:1.0.0"
  namespace   = "Risk" # expect: error schema::name
  certificate = certificate.api

  placement {
    clusters = [cluster.eu]
  }
}
