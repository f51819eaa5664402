# A small cloud for the Terraform target's tests: Docker hosts (one in a second region), a
# forward to a container pinned on one of them, and two clusters in different regions whose
# node pools need launch templates (explicit max_pods, prefix delegation), taints and labels,
# with forwards to a service on every cluster and on its home cluster only.

variable "hosts" {
  type        = any
  description = "Docker hosts: name and availability zone."
}

locals {
  hosts = { for h in var.hosts : h.name => h }
}

host "docker" {
  for_each      = local.hosts
  instance_type = "m6i.4xlarge"
  ami           = "ami-0123456789abcdef0"
  zone          = each.value.zone
  subnet        = "subnet-${each.key}"
  tags          = { team = "platform" }

  volume "data" {
    type       = "gp3"
    size       = "500Gi"
    iops       = 6000
    throughput = 250
    device     = "/dev/sdf"
    mount      = "/mnt/data"
  }

  volume "logs" {
    type   = "io2"
    size   = "100Gi"
    iops   = 20000
    device = "/dev/sdg"
    mount  = "/mnt/logs"
  }
}

container "gateway" {
  image  = "registry.example.com/edge/gateway:1.4.0"
  cpus   = 1
  memory = "512Mi"

  placement {
    strategy = "pinned"
    hosts    = [host.docker["web-a"]]
  }
}

forward "gateway" {
  to      = container.gateway
  port    = 8443
  sources = ["10.0.0.0/8", "fd00::/8"]
}

cluster "east" {
  version = "1.31"
  region  = "eu-west-1"
  subnets = ["subnet-east-a", "subnet-east-b"]

  node_pool "system" {
    instance_type = "m6i.large"
    min           = 2
    max           = 3
    system        = true
    labels        = { "node.example.com/role" = "system" }
    taints        = ["CriticalAddonsOnly=true:NoSchedule"]
  }

  node_pool "dense" {
    instance_type     = "m6i.8xlarge"
    min               = 3
    max               = 6
    prefix_delegation = true
    max_pods          = 110
  }

  node_pool "capped" {
    instance_type = "m6i.2xlarge"
    min           = 2
    desired       = 2
    max           = 4
    max_pods      = 20
  }

  load_balancer {
    internal = false
  }
}

cluster "west" {
  version       = "1.30"
  region        = "eu-central-1"
  subnets       = ["subnet-west-a", "subnet-west-b"]
  role_arn      = "arn:aws:iam::123456789012:role/west-eks"
  node_role_arn = "arn:aws:iam::123456789012:role/west-nodes"

  node_pool "work" {
    instance_type = "m6i.4xlarge"
    min           = 2
    max           = 2
  }
}

service "api" {
  workload = "Deployment"
  replicas = 40
  image    = "registry.example.com/edge/api:2.0.1"
  ports    = { https = 8443 }

  placement {
    clusters = [cluster.east, cluster.west]
    strategy = "spread"
  }
}

forward "api" {
  to      = service.api
  port    = 443
  sources = ["10.0.0.0/8"]
}

forward "api-admin" {
  to       = service.api
  port     = 9443
  protocol = "tcp"
  sources  = ["10.20.0.0/16"]
  on       = "home"
}
