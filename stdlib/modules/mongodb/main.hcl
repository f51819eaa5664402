# MongoDB replica set with TLS on local NVMe; each member restores its data from blob storage (env RESTORE_FROM) in an init container before it starts.
# Call it with: module "mongodb" { source = "stdlib/mongodb"; clusters = [...]; issuer = issuer.NAME }

variable "name" {
  type        = string
  default     = "mongodb"
  description = "Name of the service, its Secret and its DNS records."
}

variable "clusters" {
  type        = list(any)
  description = "Clusters to run on (cluster references), in order."
}

variable "issuer" {
  type        = any
  description = "Issuer of the TLS certificate (an issuer reference)."
}

variable "replicas" {
  type        = number
  default     = 3
  description = "Members of the ensemble, over all clusters."

  validation {
    condition     = var.replicas % 2 == 1
    error_message = "An odd number of members keeps a majority through a partition."
  }
}

variable "image" {
  type    = string
  default = "mongo:7.0.14"
}

variable "namespace" {
  type    = string
  default = "data"
}

variable "cpu" {
  type    = string
  default = "2"
}

variable "memory" {
  type    = string
  default = "8Gi"
}

variable "wait_for" {
  type        = list(any)
  default     = []
  description = "Services whose DNS names must resolve before members start."
}

variable "env" {
  description = "Extra environment; RESTORE_FROM names the blob-storage snapshot to restore."
  type        = map(string)
  default     = {}
}

certificate "tls" {
  name      = var.name
  dns_names = ["${var.name}.${var.namespace}.svc.clusterset.local", "*.${var.name}.${var.namespace}.svc.clusterset.local"]
  issuer    = var.issuer
}

service "members" {
  name           = var.name
  replicas       = var.replicas
  image          = var.image
  ports          = { mongodb = 27017 }
  cpu            = var.cpu
  memory         = var.memory
  namespace      = var.namespace
  headless       = true
  pod_management = "Parallel"
  wait_for       = var.wait_for
  certificate    = certificate.tls
  env            = var.env
  restore_from   = lookup(var.env, "RESTORE_FROM", null)

  placement {
    clusters = var.clusters
    strategy = "spread"
  }
}

output "service" {
  value       = service.members
  description = "The service, for wait_for and forwards."
}

output "dns_name" {
  value = "${var.name}.${var.namespace}.svc.clusterset.local"
}
