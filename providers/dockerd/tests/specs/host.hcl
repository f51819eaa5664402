# One host reached through the endpoint of a throwaway dockerd (a variable, since its socket is
# in a temporary directory) and three containers from a busybox image that the test pushes to a
# registry on 127.0.0.1:5000 beside that dockerd: two on two networks with fixed addresses, one
# on the host's default network with a health check.

variable "endpoint" {
  type = string
}

host "d1" {
  instance_type = "m6i.large"
  ami           = "ami-1"
  zone          = "eu-west-1a"
  endpoint      = var.endpoint
}

container "sleeper" {
  count    = 2
  image    = "127.0.0.1:5000/berth/busybox:1"
  cpus     = 0.1
  memory   = "16Mi"
  command  = ["sleep", "3600"]
  env      = { ROLE = "sleeper" }
  networks = ["front", "back"]
  address  = "172.16.0.${count.index + 10}"
}

container "worker" {
  image       = "127.0.0.1:5000/berth/busybox:1"
  cpus        = 0.25
  memory      = "32Mi"
  command     = ["sh", "-c", "exec sleep 3600"]
  healthcheck = ["true"]
}
