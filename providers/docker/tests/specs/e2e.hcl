# One host, three tiny containers from a local busybox image (built by the real-tool test with
# `docker import`, no registry), each on a fixed address, restarted by Docker when their
# process dies.

host "e2e" {
  instance_type = "m6i.large"
  ami           = "ami-1"
  zone          = "eu-west-1a"
}

container "sleeper" {
  count   = 3
  image   = "berth-test/busybox:1"
  cpus    = 0.1
  memory  = "16Mi"
  restart = "unless-stopped"
  command = ["sleep", "3600"]
  env     = { ROLE = "sleeper" }
  address = "172.16.0.${count.index + 10}"
}
