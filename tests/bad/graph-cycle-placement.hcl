# The VPN host waits for the VPN container, but the container runs on that host: no order
# creates both.

host "vpn" {
  instance_type = "c6i.large"
  ami           = "ami-0b1a5710c0ffee001"
  zone          = "eu-west-1a"
  depends_on    = [container.wireguard]
}

container "wireguard" { # expect: error graph::cycle
  image  = "registry.example.internal/net/wireguard:1.0.20250521"
  cpus   = 0.5
  memory = "256Mi"
}
