# Two small clusters and one service of each kind of certificate, for the Helm target's tests.

variable "db_dns_names" {
  type    = list(string)
  default = ["db.data.svc.clusterset.local", "*.db.data.svc.clusterset.local"]
}

cluster "a" {
  version    = "1.31"
  region     = "eu-west-1"
  subnets    = ["subnet-a"]
  max_pods   = 10
  pod_labels = { "fleet/cluster" = "a", team = "data" }

  node_pool "work" {
    instance_type = "m6i.4xlarge"
    min           = 1
    max           = 1
  }
}

cluster "b" {
  version  = "1.31"
  region   = "eu-west-1"
  subnets  = ["subnet-b"]
  max_pods = 10

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

issuer "acme" {
  type        = "cert-manager"
  issuer_name = "letsencrypt"
}

certificate "db" {
  dns_names = var.db_dns_names
  issuer    = issuer.own
  validity  = "720h"
}

certificate "api" {
  dns_names = ["api.web.svc.clusterset.local"]
  issuer    = issuer.vault
}

certificate "web" {
  dns_names = ["web.example.com"]
  issuer    = issuer.acme
}

# 12 replicas filling cluster a (10) then b (2).
service "db" {
  replicas          = 12
  image             = "mongo:7.0.14"
  ports             = { mongodb = 27017 }
  cpu               = "500m"
  memory            = "1Gi"
  namespace         = "data"
  headless          = true
  pod_management    = "Parallel"
  certificate       = certificate.db
  disruption_budget = 3
  restore_from      = "https://blob.example.com/snapshots/db/latest.tar.gz"
  env               = { RESTORE_FROM = "https://blob.example.com/snapshots/db/latest.tar.gz" }

  placement {
    clusters = [cluster.a, cluster.b]
  }
}

service "api" {
  workload    = "Deployment"
  replicas    = 4
  image       = "registry.example.com/api:1.0"
  ports       = { https = 8443 }
  namespace   = "web"
  wait_for    = [service.db]
  certificate = certificate.api

  placement {
    clusters = [cluster.a, cluster.b]
    strategy = "pinned"
    counts   = { b = 4 }
  }
}

service "web" {
  replicas    = 2
  image       = "registry.example.com/web:1.0"
  ports       = { http = 8080 }
  namespace   = "web"
  certificate = certificate.web
  wait_for    = [service.api]

  placement {
    clusters = [cluster.b]
  }
}

release "cache" {
  chart     = "stdlib/redis"
  version   = "19.6.0"
  clusters  = [cluster.a]
  namespace = "data"
  values    = { replica = { replicaCount = 2 }, auth = { enabled = false } }
}
