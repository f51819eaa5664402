# A release whose values are too large for one Helm release: the emitter must refuse it.

variable "blob" {
  type = string
}

cluster "small" {
  version = "1.31"
  region  = "eu-west-1"
  subnets = ["subnet-a"]
}

release "big" {
  chart    = "oci://registry.example.com/charts/big"
  version  = "1.0.0"
  clusters = [cluster.small]
  values   = { blob = var.blob }
}
