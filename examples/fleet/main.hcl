# The fleet workload of ../shared/fleet/README.md, at any scale:
#   python3 gen.py 16 fleet-16.json
#   berth build examples/fleet --var-file fleet-16.json -o out/fleet-16
# Every top-level key of fleet-S.json is a variable here.

variable "workload" {
  type = string
}
variable "scale" {
  type = number
}
variable "org" {
  type = any
}
variable "limits" {
  type = any
}
variable "docker" {
  type = any
}
variable "clusters" {
  type = any
}
variable "services" {
  type = any
}
variable "dockerHosts" {
  type = any
}
variable "products" {
  type = any
}

locals {
  clusters = { for c in var.clusters : c.name => c }
  services = { for s in var.services : s.name => s }
  exposed  = { for s in var.services : s.name => s if s.exposed }
  hosts    = { for h in var.dockerHosts : h.name => h }
  products = { for p in var.products : p.name => p }
}

cluster "fleet" {
  for_each      = local.clusters
  version       = each.value.version
  region        = var.org.region
  subnets       = each.value.subnets
  max_pods      = var.limits.maxPodsPerCluster
  role_arn      = var.org.eksRoleArn
  node_role_arn = var.org.nodeRoleArn
  pod_labels    = { "fleet/cluster" = each.key }

  node_pool "pool" {
    for_each      = { for p in each.value.nodePools : p.name => p }
    instance_type = node_pool.value.instanceType
    min           = node_pool.value.nodes
    max           = node_pool.value.nodes
  }

  load_balancer {
    internal = true
  }
}

issuer "fleet" {
  type        = "ca"
  common_name = "${var.org.name} fleet CA"
}

certificate "fleet" {
  for_each  = local.services
  dns_names = ["${each.key}.${var.org.dnsSuffix}"]
  issuer    = issuer.fleet
}

service "fleet" {
  for_each       = local.services
  replicas       = each.value.replicas
  image          = each.value.image
  ports          = { app = each.value.port }
  cpu            = each.value.cpu
  memory         = each.value.memory
  namespace      = var.org.namespace
  headless       = true
  pod_management = "Parallel"
  wait_for       = [for d in each.value.dependsOn : service.fleet[d]]
  certificate    = certificate.fleet[each.key]

  placement {
    clusters = [for c in var.clusters : cluster.fleet[c.name]]
    strategy = "fill"
  }
}

forward "fleet" {
  for_each = local.exposed
  to       = service.fleet[each.key]
  port     = each.value.port
  sources  = [var.org.firmCidr]
  on       = "home"
}

host "fleet" {
  for_each      = local.hosts
  instance_type = each.value.instanceType
  ami           = each.value.ami
  zone          = each.value.availabilityZone
  subnet        = each.value.subnet

  volume "data" {
    for_each = { for v in each.value.volumes : v.name => v }
    type     = volume.value.type
    size     = "${volume.value.sizeGiB}Gi"
    iops     = volume.value.iops
    device   = volume.value.device
    mount    = volume.value.mount
  }

  docker {
    data_root         = "${each.value.volumes[0].mount}/${var.docker.dataDir}"
    log_max_size      = var.docker.logMaxSize
    log_max_file      = var.docker.logMaxFile
    address_pool_base = var.docker.addressPoolBase
    # Most products idle; CPU limits cap bursts and reserve nothing.
    cpu_overcommit = 8
  }
}

container "fleet" {
  for_each = local.products
  image    = each.value.image
  cpus     = each.value.cpus
  memory   = "${each.value.memoryMiB}Mi"
}
