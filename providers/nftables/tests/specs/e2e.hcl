# The end-to-end test's network: host "gw" is the gateway namespace (10.123.1.1 towards the
# clients), container "app" the backend namespace behind it (10.123.3.2). Only client-ok
# (10.123.1.2) may use the forward; client-bad (10.123.2.2) may not.

host "gw" {
  instance_type = "m6i.large"
  ami           = "ami-0123456789abcdef0"
  zone          = "eu-west-1a"
  address       = "10.123.1.1"
}

container "app" {
  image   = "busybox:1.36"
  cpus    = 0.5
  memory  = "64Mi"
  address = "10.123.3.2"

  placement {
    strategy = "pinned"
    hosts    = [host.gw]
  }
}

forward "web" {
  to          = container.app
  port        = 8080
  target_port = 9000
  sources     = ["10.123.1.2/32"]
}
