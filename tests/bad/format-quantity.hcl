# "512Mx" is not a memory quantity (512Mi is).

cluster "web" {
  version = "1.31"
  region  = "eu-west-1"
  subnets = ["subnet-web-a", "subnet-web-b"]

  node_pool "general" {
    instance_type = "m6i.2xlarge"
    min           = 2
    max           = 4
  }
}

service "session-cache" {
  replicas = 3
  image    = "redis:7.4"
  ports    = { redis = 6379 }
  cpu      = "500m"
  memory   = "512Mx" # expect: error format::quantity

  placement {
    clusters = [cluster.web]
  }
}
