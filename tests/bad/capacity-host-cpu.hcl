# 12 CPUs of limits on a 2-vCPU c6i.large, where cpu_overcommit (4 by default) allows 8.

host "encoder" { # expect: error capacity::host
  instance_type = "c6i.large"
  ami           = "ami-0b1a5710c0ffee001"
  zone          = "eu-west-1a"
}

container "ffmpeg" {
  count  = 3
  image  = "registry.media.internal/ffmpeg-worker:6.1.0"
  cpus   = 4
  memory = "1Gi"
}
