# Two clusters with a replicated database (berth-issued TLS) and an API (TLS from Vault), for
# the Kubernetes engine's tests against the stand-in API server.

cluster "a" {
  version  = "1.31"
  region   = "eu-west-1"
  subnets  = ["subnet-a"]
  max_pods = 10

  node_pool "work" {
    instance_type = "m6i.4xlarge"
    min           = 1
    max           = 1
  }
}

cluster "b" {
  version    = "1.31"
  region     = "eu-west-1"
  subnets    = ["subnet-b"]
  max_pods   = 10
  pod_labels = { team = "data" }

  node_pool "work" {
    instance_type = "m6i.4xlarge"
    min           = 1
    max           = 1
  }
}

issuer "own" {
  type        = "ca"
  common_name = "Test CA"
}

issuer "vault" {
  type         = "vault"
  vault_path   = "secret/test/api"
  secret_store = "test-vault"
}

certificate "db" {
  dns_names = ["db.data.svc.clusterset.local"]
  issuer    = issuer.own
  validity  = "720h"
}

certificate "api" {
  dns_names = ["api.web.svc.clusterset.local"]
  issuer    = issuer.vault
}

variable "api_image" {
  type    = string
  default = "registry.example.com/api:1.0"
}

service "db" {
  replicas          = 3
  image             = "mongo:7.0.14"
  ports             = { mongodb = 27017 }
  cpu               = "500m"
  memory            = "1Gi"
  namespace         = "data"
  headless          = true
  certificate       = certificate.db
  disruption_budget = 1

  placement {
    clusters = [cluster.a, cluster.b]
    strategy = "spread"
  }
}

service "api" {
  workload    = "Deployment"
  replicas    = 2
  image       = var.api_image
  ports       = { https = 8443 }
  namespace   = "web"
  wait_for    = [service.db]
  certificate = certificate.api

  placement {
    clusters = [cluster.b]
  }
}
