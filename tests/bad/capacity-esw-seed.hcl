# Seed 000 as first asked: ESW Central's EKS cluster (examples/esw-central) with 4
# x1.32xlarge nodes running the 1,400-replica portal. On EKS an x1.32xlarge runs at most
# 8 ENIs x (30 IPv4 - 1) + 2 = 234 pods, so 4 nodes hold 936 pods, not 1,400 (350 per node);
# as a Xen type it cannot use prefix delegation. The example runs 6 nodes instead.

cluster "central" { # expect: error capacity::pods-per-node
  version = "1.31"
  region  = "us-east-1"
  subnets = ["subnet-central-0", "subnet-central-1", "subnet-central-2"]

  node_pool "x1" {
    instance_type = "x1.32xlarge"
    min           = 4
    desired       = 4
    max           = 4
    labels        = { workload = "apps" }
  }
}

service "portal" {
  workload = "Deployment"
  replicas = 1400
  image    = "registry.central.internal/central/portal:5.2.0"
  ports    = { http = 8080 }
  cpu      = "250m"
  memory   = "512Mi"

  placement {
    clusters = [cluster.central]
  }
}
