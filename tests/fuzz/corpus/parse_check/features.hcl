variable "n" {
  type    = number
  default = 2
}

locals {
  names = [for i in range(var.n) : format("h%02d", i)]
  by    = { for n in local.names : n => upper(n) }
}

host "h" {
  for_each      = toset(local.names)
  instance_type = "m6i.large"
  ami           = "ami-1"
  zone          = "eu-west-1${each.key == "h00" ? "a" : "b"}"

  volume "v" {
    count  = 2
    size   = "${volume.index + 1}0Gi"
    device = "/dev/sd${["f", "g"][volume.index]}"
    mount  = "/mnt/d${volume.index}"
  }
}

cluster "c" {
  version  = "1.31"
  region   = "eu-west-1"
  subnets  = ["s"]
  max_pods = 100

  node_pool "p" {
    instance_type = "m6i.8xlarge"
    min           = 1
    max           = 2
  }
}

service "s" {
  replicas    = 3
  image       = "r/s:1"
  wait_for    = [service.t]
  certificate = certificate.s

  placement {
    clusters = [cluster.c]
    strategy = "spread"
  }
}

service "t" {
  replicas = 1
  image    = "r/t:1"

  placement {
    clusters = [cluster.c]
  }
}

issuer "ca" {
  type = "ca"
}

certificate "s" {
  dns_names = ["s.default.svc"]
  issuer    = issuer.ca
}

forward "s" {
  to      = service.s
  port    = 443
  sources = ["10.0.0.0/8"]
}

output "zones" {
  value = { for k, h in host.h : k => h.zone }
}
