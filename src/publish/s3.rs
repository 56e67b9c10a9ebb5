//! `publish` to S3: one `PutObject` of the file's bytes to
//! `<bucket>/<prefix><name>`, configured as sops's `config.LoadDefaultConfig`
//! is (cli.md §11 step 8): the SDK's default chain for region, credentials
//! and endpoint (`AWS_REGION`, `AWS_PROFILE`, `AWS_ENDPOINT_URL[_S3]`, …),
//! read by the SDK from the process environment (cli.md §9.2).
//!
//! With the `aws` feature: aws-sdk-s3 on the process's one runtime
//! (`keys::blocking`, started by the first async call, so nothing starts
//! unless a file goes to S3 or a cloud key is used), which prints `waiting
//! for S3: PutObject <bucket>/<key>…` when the upload takes long. Without
//! it: an error naming the feature.

#[cfg(feature = "aws")]
pub(super) fn put(bucket: &str, key: &str, bytes: Vec<u8>) -> Result<(), crate::error::Error> {
    use aws_config::BehaviorVersion;
    use aws_sdk_s3::primitives::ByteStream;

    let what = format!("S3: PutObject {bucket}/{key}");
    crate::keys::blocking::block_on(&what, async {
        let config = aws_config::defaults(BehaviorVersion::latest()).load().await;
        let client = aws_sdk_s3::Client::new(&config);
        client
            .put_object()
            .bucket(bucket)
            .key(key)
            .body(ByteStream::from(bytes))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| crate::error::Error::Generic(describe(&e)))
    })
    .map_err(crate::error::Error::Generic)?
}

/// The SDK's reason in the shape of aws-sdk-go-v2's `operation error S3:
/// PutObject, …`, which sops prints as is.
#[cfg(feature = "aws")]
fn describe(
    err: &aws_sdk_s3::error::SdkError<
        aws_sdk_s3::operation::put_object::PutObjectError,
        aws_sdk_s3::config::http::HttpResponse,
    >,
) -> String {
    use aws_sdk_s3::error::{ProvideErrorMetadata as _, SdkError};
    use aws_sdk_s3::operation::{RequestId as _, RequestIdExt as _};
    match err {
        SdkError::ServiceError(service) => {
            let status = service.raw().status().as_u16();
            let meta = service.err();
            format!(
                "operation error S3: PutObject, https response error StatusCode: {status}, RequestID: {}, HostID: {}, api error {}: {}",
                err.request_id().unwrap_or_default(),
                err.extended_request_id().unwrap_or_default(),
                meta.code().unwrap_or("UnknownError"),
                meta.message().unwrap_or_default()
            )
        }
        other => format!("operation error S3: PutObject, {}", crate::keys::blocking::error_chain(other)),
    }
}

#[cfg(not(feature = "aws"))]
pub(super) fn put(_bucket: &str, _key: &str, _bytes: Vec<u8>) -> Result<(), crate::error::Error> {
    Err(crate::error::Error::Unsupported(
        "this build of rsops lacks S3 support for publish (cargo feature `aws`)".to_owned(),
    ))
}
