# Pinned counts far beyond any cluster: reported, never an arithmetic overflow.

cluster "a" {
  version  = "1.31"
  region   = "eu-west-1"
  subnets  = ["subnet-a"]
  max_pods = 5000
}

cluster "b" {
  version  = "1.31"
  region   = "eu-west-1"
  subnets  = ["subnet-b"]
  max_pods = 5000
}

service "huge" { # expect: error capacity::pods-per-cluster; error capacity::pods-per-cluster
  replicas = 9000000000000000
  image    = "registry.example.com/huge:1"

  placement {
    clusters = [cluster.a, cluster.b]
    strategy = "pinned"
    counts   = { a = 4500000000000000, b = 4500000000000000 }
  }
}
