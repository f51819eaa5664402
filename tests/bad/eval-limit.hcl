# A count off by a few orders of magnitude: berth refuses to expand it.

variable "fleet_size" {
  type    = number
  default = 2500000
}

container "probe" {
  count  = var.fleet_size # expect: error eval::limit
  image  = "registry.example.internal/probe:1.0.0"
  cpus   = 0.1
  memory = "64Mi"
}
