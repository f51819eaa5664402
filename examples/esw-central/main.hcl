# Seed 000: ESW "Central". 2,500 containers on 8 x1.32xlarge Docker hosts (about 312 each),
# each host with one big high-IOPS volume instead of striped LVM, plus one EKS cluster.
#
# The seed asked 4 x1.32xlarge nodes to run 1,400 pods (350 per node). `berth check` refuses
# that: on EKS an x1.32xlarge runs at most 234 pods (8 ENIs x (30 IPv4 - 1) + 2), and as a
# Xen instance it cannot use prefix delegation. 1,400 pods need 6 such nodes, as below; the
# seed's 4-node version is tests/bad/capacity-esw-seed.hcl.

variable "hosts" {
  type        = number
  default     = 8
  description = "Docker hosts."
}

variable "containers" {
  type        = number
  default     = 2500
  description = "Containers over all hosts."

  validation {
    condition     = var.containers <= var.hosts * 320
    error_message = "Central packs at most 320 containers per host."
  }
}

variable "subnets" {
  type        = list(string)
  default     = ["subnet-central-0", "subnet-central-1", "subnet-central-2"]
  description = "Subnets of the hosts and the cluster, one per zone in local.zones order."
}

# The IAM roles of the EKS control plane and nodes. Unset, the Terraform output asks for them
# (var.eks_cluster_role_arn, var.eks_node_role_arn); `berth apply` needs them set.
variable "eks_role_arn" {
  type    = string
  default = null
}

variable "eks_node_role_arn" {
  type    = string
  default = null
}

variable "registry" {
  type    = string
  default = "registry.central.internal"
}

locals {
  zones = ["us-east-1a", "us-east-1b", "us-east-1c"]
  # 70 products, each run by many customers: every container is one product instance.
  products = {
    for i in range(var.containers) : format("app-%04d", i) => {
      image  = format("%s/products/p%02d:%d.%d", var.registry, i % 70, 2 + i % 3, i % 7)
      cpus   = [0.25, 0.5, 1][i % 3]
      memory = ["256Mi", "512Mi", "1Gi", "2Gi"][i % 4]
    }
  }
}

host "central" {
  count         = var.hosts
  instance_type = "x1.32xlarge"
  ami           = "ami-0c0ffee0c0ffee000"
  zone          = local.zones[count.index % length(local.zones)]
  subnet        = var.subnets[count.index % length(var.subnets)]
  tags = {
    team = "central"
    role = "docker-host"
  }
  sysctls = {
    "net.ipv4.ip_local_port_range" = "10240 65000"
  }

  # One large io2 volume per host: no LVM, IOPS provisioned up front.
  volume "data" {
    type   = "io2"
    size   = "16000Gi"
    iops   = 64000
    device = "/dev/sdf"
    mount  = "/mnt/data"
  }

  docker {
    log_max_size             = "50m"
    log_max_file             = 5
    live_restore             = true
    max_concurrent_downloads = 10
  }
}

container "app" {
  for_each = local.products
  image    = each.value.image
  cpus     = each.value.cpus
  memory   = each.value.memory
  restart  = "unless-stopped"

  placement {
    strategy = "round-robin"
  }
}

cluster "central" {
  version       = "1.31"
  region        = "us-east-1"
  subnets       = var.subnets
  role_arn      = var.eks_role_arn
  node_role_arn = var.eks_node_role_arn

  node_pool "x1" {
    instance_type = "x1.32xlarge"
    min           = 6
    desired       = 6
    max           = 8
    labels        = { workload = "apps" }
  }
}

service "portal" {
  workload = "Deployment"
  replicas = 1400
  image    = "${var.registry}/central/portal:5.2.0"
  ports    = { http = 8080 }
  cpu      = "250m"
  memory   = "512Mi"

  placement {
    clusters = [cluster.central]
  }
}

output "pods_per_node" {
  value = service.portal.replicas / cluster.central.node_pool.x1.desired
}
