//! GitHub's payloads: the REST models and the GraphQL pull-request query.

pub mod graphql;
mod model;

pub use model::*;
