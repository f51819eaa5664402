# Seed 002: the bank's multi-cluster. 20,000 pods over 4 EKS clusters of 10 node pools x 100
# nodes, at most 5,000 pods per cluster (one pool per cluster is kept for kube-system).
# Every service gets TLS from a certificate delivered as a Kubernetes Secret, so 20,000 pods
# never hit the vault at once; data services come from the stdlib modules.

variable "release" {
  type        = string
  default     = "2026.11.3"
  description = "Release of the calculation engine image."
}

variable "firm_cidr" {
  type    = string
  default = "10.0.0.0/8"
}

# The IAM roles of the EKS control planes and nodes. Unset, the Terraform output asks for them
# (var.eks_cluster_role_arn, var.eks_node_role_arn); `berth apply` needs them set.
variable "eks_role_arn" {
  type    = string
  default = null
}

variable "eks_node_role_arn" {
  type    = string
  default = null
}

# Subnets of the clusters by name, where they are not the bank's subnet-<cluster>-a, -b, -c
# (and the stress cluster's subnet-t0-a, -b).
variable "subnets" {
  type    = map(list(string))
  default = {}
}

locals {
  clusters = ["b0", "b1", "b2", "b3"]
  registry = "registry.bank.internal"
  pools    = [for p in range(10) : format("np%02d", p)]
}

cluster "bank" {
  for_each = toset(local.clusters)
  version  = "1.31"
  region   = "eu-west-1"
  subnets  = lookup(var.subnets, each.key, ["subnet-${each.key}-a", "subnet-${each.key}-b", "subnet-${each.key}-c"])
  max_pods = 5000

  role_arn      = var.eks_role_arn
  node_role_arn = var.eks_node_role_arn

  node_pool "pool" {
    for_each      = toset(local.pools)
    instance_type = node_pool.key == "np00" ? "m6i.4xlarge" : "m6i.8xlarge"
    min           = 100
    max           = 100
    system        = node_pool.key == "np00"
    labels        = { "bank/pool" = node_pool.key }
  }

  load_balancer {
    internal = true
  }
}

# The bank's own CA: berth issues the leaf certificates and keeps the keys out of the output.
issuer "bank" {
  type        = "ca"
  common_name = "Bank Risk Platform CA"
}

# Market data certificates stay in Vault and reach the pods through External Secrets.
issuer "vault" {
  type         = "vault"
  vault_path   = "secret/risk/market-feed"
  secret_store = "bank-vault"
}

module "zookeeper" {
  source   = "stdlib/zookeeper"
  clusters = [for c in local.clusters : cluster.bank[c]]
  issuer   = issuer.bank
}

module "kafka" {
  source   = "stdlib/kafka"
  clusters = [for c in local.clusters : cluster.bank[c]]
  issuer   = issuer.bank
  wait_for = [module.zookeeper.service]
  env      = { KAFKA_ZOOKEEPER_CONNECT = "${module.zookeeper.dns_name}:2281" }
}

# One MongoDB replica set per shard of the results store, restored from blob storage.
module "mongodb" {
  for_each = toset(["results-a", "results-b", "results-c", "results-d"])
  source   = "stdlib/mongodb"
  name     = "mongo-${each.key}"
  clusters = [for c in local.clusters : cluster.bank[c]]
  issuer   = issuer.bank
  env      = { RESTORE_FROM = "https://blob.bank.internal/snapshots/${each.key}/latest" }
}

# The calculation distribution engine: 19,200 pods, 4,800 per cluster.
service "calc-engine" {
  replicas       = 19200
  image          = "${local.registry}/risk/calc:${var.release}"
  ports          = { grid = 7800 }
  cpu            = "500m"
  memory         = "1Gi"
  namespace      = "risk"
  headless       = true
  pod_management = "Parallel"
  wait_for       = [module.kafka.service, module.mongodb["results-a"].service]
  certificate    = certificate.calc

  placement {
    clusters = [for c in local.clusters : cluster.bank[c]]
    strategy = "spread"
  }
}

service "market-feed" {
  replicas       = 400
  image          = "${local.registry}/risk/market-feed:${var.release}"
  ports          = { feed = 9000 }
  cpu            = "1"
  memory         = "2Gi"
  namespace      = "risk"
  headless       = true
  pod_management = "Parallel"
  wait_for       = [module.kafka.service]
  certificate    = certificate.market-feed

  placement {
    clusters = [for c in local.clusters : cluster.bank[c]]
    strategy = "spread"
  }
}

service "risk-api" {
  workload          = "Deployment"
  replicas          = 300
  image             = "${local.registry}/risk/api:${var.release}"
  ports             = { https = 8443 }
  cpu               = "1"
  memory            = "2Gi"
  namespace         = "risk"
  certificate       = certificate.risk-api
  disruption_budget = 30

  placement {
    clusters = [for c in local.clusters : cluster.bank[c]]
  }
}

certificate "calc" {
  dns_names = ["calc-engine.risk.svc.clusterset.local", "*.calc-engine.risk.svc.clusterset.local"]
  issuer    = issuer.bank
  validity  = "720h"
}

certificate "market-feed" {
  dns_names = ["market-feed.risk.svc.clusterset.local"]
  issuer    = issuer.vault
}

certificate "risk-api" {
  dns_names = ["risk-api.risk.svc.clusterset.local", "risk.bank.internal"]
  issuer    = issuer.bank
}

# The firm reaches the cloud only through load balancers: forwards follow the clusters.
forward "risk-api" {
  to      = service.risk-api
  port    = 443
  sources = [var.firm_cidr]
}

forward "market-feed" {
  to      = service.market-feed
  port    = 9000
  sources = ["10.20.0.0/16", "10.40.0.0/16"]
}

# The engine image: the big, stable dependency layers first, the release layer last.
image "calc" {
  base       = "eclipse-temurin:21-jre"
  repository = "${local.registry}/risk/calc"
  tag        = var.release
  entrypoint = ["/opt/calc/bin/calc"]
  labels     = { "org.opencontainers.image.source" = "risk/calc" }

  layer "third-party" {
    changes = "monthly"
    files   = { "/opt/calc/lib/third-party" = "build/lib/third-party" }
    size    = "9Gi"
  }

  layer "firm-libs" {
    changes = "weekly"
    files   = { "/opt/calc/lib/firm" = "build/lib/firm" }
    size    = "4Gi"
  }

  layer "app" {
    changes = "release"
    files   = { "/opt/calc/bin" = "build/bin", "/opt/calc/lib/app" = "build/lib/app" }
    content = { "/opt/calc/VERSION" = var.release }
  }

  stable_budget = "16Gi"
}

# Test environments are torn down on Friday evening by `berth gc`.
environment "stress" {
  owner       = "risk-platform@bank.internal"
  expires     = "2026-11-27T18:00:00Z"
  description = "End-to-end stress test of the next release"
}

environment "pr-4711" {
  owner = "j.wegrzyn"
  ttl   = "48h"
}

cluster "stress" {
  version     = "1.31"
  region      = "eu-west-1"
  subnets     = lookup(var.subnets, "stress", ["subnet-t0-a", "subnet-t0-b"])
  max_pods    = 500
  environment = environment.stress

  role_arn      = var.eks_role_arn
  node_role_arn = var.eks_node_role_arn

  node_pool "work" {
    instance_type = "m6i.8xlarge"
    min           = 2
    max           = 4
  }
}

service "calc-canary" {
  replicas       = 200
  image          = "${local.registry}/risk/calc:${var.release}"
  ports          = { grid = 7800 }
  cpu            = "500m"
  memory         = "1Gi"
  namespace      = "risk"
  headless       = true
  pod_management = "Parallel"
  environment    = environment.stress

  placement {
    clusters = [cluster.stress]
  }
}

service "pr-preview" {
  workload    = "Deployment"
  replicas    = 2
  image       = "${local.registry}/risk/api:pr-4711"
  ports       = { https = 8443 }
  namespace   = "pr-4711"
  environment = environment.pr-4711

  placement {
    clusters = [cluster.stress]
  }
}
