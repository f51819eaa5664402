# One port per tenant, all forwarded through the gateway cluster's load balancer: 60
# listeners, where AWS allows 50 per network load balancer.

locals {
  tenant_ports = toset([for i in range(60) : tostring(7000 + i)])
}

cluster "gateway" {
  version = "1.31"
  region  = "eu-west-1"
  subnets = ["subnet-gw-a", "subnet-gw-b"]

  node_pool "general" {
    instance_type = "c6i.2xlarge"
    min           = 3
    max           = 6
  }

  load_balancer {
    internal = false
  }
}

service "tenant-gateway" {
  workload = "Deployment"
  replicas = 6
  image    = "registry.example.internal/edge/tenant-gateway:2.8.0"
  ports    = { tcp = 7000 }

  placement {
    clusters = [cluster.gateway]
  }
}

forward "tenant" { # expect: error forward::quota
  for_each    = local.tenant_ports
  to          = service.tenant-gateway
  port        = each.key
  target_port = each.key
  sources     = ["0.0.0.0/0"]
}
