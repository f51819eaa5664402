# A container that mounts a volume its host does not have: the emitter reports it.

host "h" {
  instance_type = "m6i.large"
  ami           = "ami-1"
  zone          = "eu-west-1a"

  volume "data" {
    size   = "100Gi"
    device = "/dev/sdf"
    mount  = "/mnt/data"
  }
}

container "app" {
  image   = "r/app:1"
  cpus    = 0.5
  memory  = "256Mi"
  volumes = ["logs:/var/log/app", "/etc/app:/etc/app:ro"]
}
