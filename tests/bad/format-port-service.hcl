# A named service port of 0.

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

service "metrics" {
  workload = "Deployment"
  replicas = 2
  image    = "registry.example.internal/metrics-gateway:0.9.0"
  ports = {
    http    = 8080
    metrics = 0 # expect: error format::port
  }

  placement {
    clusters = [cluster.web]
  }
}
