# "2 cores" is not a CPU quantity ("2" or "2000m" is).

cluster "batch" {
  version = "1.31"
  region  = "eu-west-1"
  subnets = ["subnet-batch-a", "subnet-batch-b"]

  node_pool "general" {
    instance_type = "c6i.4xlarge"
    min           = 2
    max           = 10
  }
}

service "transcoder" {
  workload = "Deployment"
  replicas = 10
  image    = "registry.media.internal/transcoder:3.3.0"
  cpu      = "2 cores" # expect: error format::quantity
  memory   = "4Gi"

  placement {
    clusters = [cluster.batch]
  }
}
