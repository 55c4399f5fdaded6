//! Multi-part Encrypt and Decrypt (KMIP 1.3+ streaming): the first part carries Init Indicator,
//! the server answers a Correlation Value, the following parts name it, the last one carries
//! Final Indicator. Each open stream holds a PKCS#11 operation on a session of its own, so at
//! most [`MAX_STREAMS`] are open and one idle for [`STREAM_IDLE`] is dropped. A stream belongs
//! to the identity that opened it; another identity's Correlation Value is unknown to it.
//!
//! Not offered in streams: AES-ECB with padding, and keys with Usage Limits (Feature Not
//! Supported).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::hsm::CipherStream;
use crate::kmip::operations::cryptographic_parameters::Streaming;
use crate::kmip::operations::decrypt::{DataResponse, DecryptRequest};
use crate::kmip::operations::encrypt::{EncryptRequest, EncryptResponse};
use crate::kmip::ResponsePayload;
use crate::service::crypto::{
    check_policy, cipher_for, key_facts, parameters, separate_tag, usable_key, Direction, Purpose,
    UsableKey,
};
use crate::service::objects::{hsm_error, Objects};
use crate::service::{Context, OpError, Policy};
use crate::ttlv::enums::BlockCipherMode;
use crate::ttlv::Tag;

/// Most streams open at once: each holds an HSM session (bounds what clients can pin).
pub const MAX_STREAMS: usize = 32;
/// A stream with no part for this long is dropped (bounds sessions left by gone clients).
pub const STREAM_IDLE: Duration = Duration::from_secs(60);

struct Stream {
    owner: String,
    uid: String,
    cipher: CipherStream,
    tag_len: Option<usize>,
    last: Instant,
}

/// The open streams, by Correlation Value.
#[derive(Default)]
pub struct Streams(Mutex<HashMap<Vec<u8>, Stream>>);

impl std::fmt::Debug for Streams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Streams").finish_non_exhaustive()
    }
}

impl Streams {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Vec<u8>, Stream>> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn open(&self, objects: &Objects, stream: Stream) -> Result<Vec<u8>, OpError> {
        let cv = objects.hsm.random(16).map_err(hsm_error)?;
        let mut m = self.lock();
        m.retain(|_, s| s.last.elapsed() < STREAM_IDLE);
        if m.len() >= MAX_STREAMS {
            return Err(OpError::Policy(format!(
                "{MAX_STREAMS} multi-part operations are open already: finish one or wait for \
                 an idle one to expire ({} s)",
                STREAM_IDLE.as_secs()
            )));
        }
        m.insert(cv.clone(), stream);
        Ok(cv)
    }

    fn take(&self, ctx: &Context<'_>, cv: &[u8]) -> Result<Stream, OpError> {
        let mut m = self.lock();
        m.retain(|_, s| s.last.elapsed() < STREAM_IDLE);
        match m.remove(cv) {
            Some(s) if s.owner == ctx.identity.as_str() => Ok(s),
            Some(s) => {
                m.insert(cv.to_vec(), s);
                Err(unknown())
            }
            None => Err(unknown()),
        }
    }

    fn put_back(&self, cv: Vec<u8>, mut s: Stream) {
        s.last = Instant::now();
        self.lock().insert(cv, s);
    }
}

fn unknown() -> OpError {
    OpError::Invalid("unknown or expired Correlation Value: start again with Init Indicator".into())
}

fn refuse_in_stream(key: &UsableKey) -> Result<(), OpError> {
    if key.record.attribute("Usage Limits").next().is_some() {
        return Err(OpError::NotSupported(
            "multi-part operations are not offered with keys that have Usage Limits: send the \
             data in one request"
                .into(),
        ));
    }
    Ok(())
}

/// What one part produced, and the stream's identity.
struct Part {
    uid: String,
    out: Vec<u8>,
    /// Set while the stream stays open.
    correlation_value: Option<Vec<u8>>,
    generated_iv: Option<Vec<u8>>,
    /// The GCM tag length, on the last part.
    tag_len: Option<usize>,
}

/// Runs one part. `start` opens the stream (first part); `tail` is fed after `data` on the last
/// part (a 1.4+ Decrypt's GCM tag).
fn part(
    ctx: &Context<'_>,
    objects: &Objects,
    streaming: &Streaming,
    data: &[u8],
    tail: Option<&[u8]>,
    start: impl FnOnce() -> Result<(Stream, Option<Vec<u8>>), OpError>,
) -> Result<Part, OpError> {
    let correlation_value = streaming.correlation_value.as_deref();
    let init = streaming.init_indicator == Some(true);
    let last = streaming.final_indicator == Some(true);
    let (stream, generated_iv) = match correlation_value {
        Some(cv) => (objects.streams.take(ctx, cv)?, None),
        None if init => start()?,
        None => {
            return Err(OpError::Invalid(
                "a multi-part operation starts with Init Indicator true, and later parts name \
                 its Correlation Value"
                    .into(),
            ))
        }
    };
    let mut out = stream.cipher.update(data).map_err(hsm_error)?;
    if !last {
        let uid = stream.uid.clone();
        let cv = match correlation_value {
            Some(cv) => {
                objects.streams.put_back(cv.to_vec(), stream);
                cv.to_vec()
            }
            None => objects.streams.open(objects, stream)?,
        };
        return Ok(Part {
            uid,
            out,
            correlation_value: Some(cv),
            generated_iv,
            tag_len: None,
        });
    }
    if let Some(t) = tail {
        out.extend(stream.cipher.update(t).map_err(hsm_error)?);
    }
    let Stream {
        uid,
        cipher,
        tag_len,
        ..
    } = stream;
    out.extend(cipher.finish().map_err(hsm_error)?);
    Ok(Part {
        uid,
        out,
        correlation_value: None,
        generated_iv,
        tag_len,
    })
}

/// A multi-part Encrypt request (one part of it).
pub fn encrypt(
    ctx: &Context<'_>,
    objects: &Objects,
    policy: &Policy,
    request: &EncryptRequest,
) -> Result<ResponsePayload, OpError> {
    let s = &request.streaming;
    let data = request.data.as_deref().unwrap_or_default();
    let start = || {
        let key = usable_key(
            ctx,
            objects,
            request.unique_identifier.as_deref(),
            Purpose::Encrypt,
        )?;
        refuse_in_stream(&key)?;
        let p = parameters(request.cryptographic_parameters.as_ref(), &key);
        check_policy(policy, Purpose::Encrypt, key_facts(&key.record, None), &p)?;
        let choice = cipher_for(
            objects,
            &key,
            &p,
            request.iv_counter_nonce.as_deref(),
            request.authenticated_encryption_additional_data.as_deref(),
            Direction::Encrypt,
            None,
        )?;
        if choice.ecb_padding {
            return Err(OpError::NotSupported(
                "multi-part AES-ECB with padding is not offered".into(),
            ));
        }
        let cipher = objects
            .hsm
            .start_stream(key.managed(), &choice.cipher, false)
            .map_err(hsm_error)?;
        Ok((
            Stream {
                owner: ctx.identity.as_str().to_owned(),
                uid: key.uid,
                cipher,
                tag_len: choice.tag_len,
                last: Instant::now(),
            },
            choice.generated_iv,
        ))
    };
    let mut p = part(ctx, objects, s, data, None, start)?;
    let mut tag = None;
    if let Some(t) = p.tag_len.filter(|_| separate_tag(ctx.version)) {
        let at =
            p.out.len().checked_sub(t).ok_or_else(|| {
                OpError::Hsm("C_EncryptFinal returned less than a GCM tag".into())
            })?;
        tag = Some(p.out.split_off(at));
    }
    Ok(ResponsePayload::Encrypt(EncryptResponse {
        unique_identifier: p.uid,
        data: Some(p.out),
        iv_counter_nonce: p.generated_iv,
        correlation_value: p.correlation_value,
        authenticated_encryption_tag: tag,
    }))
}

/// A multi-part Decrypt request (one part of it). From 1.4 the GCM tag comes with the last part.
pub fn decrypt(
    ctx: &Context<'_>,
    objects: &Objects,
    policy: &Policy,
    request: &DecryptRequest,
) -> Result<ResponsePayload, OpError> {
    let s = &request.streaming;
    let data = request.data.as_deref().unwrap_or_default();
    let last = s.final_indicator == Some(true);
    let start = || {
        let key = usable_key(
            ctx,
            objects,
            request.unique_identifier.as_deref(),
            Purpose::Decrypt,
        )?;
        refuse_in_stream(&key)?;
        let p = parameters(request.cryptographic_parameters.as_ref(), &key);
        check_policy(policy, Purpose::Decrypt, key_facts(&key.record, None), &p)?;
        let tag_len =
            if p.block_cipher_mode == Some(BlockCipherMode::GCM) && separate_tag(ctx.version) {
                // The tag comes with the last part; its length is the parameters' (16 by default).
                Some(
                    usize::try_from(p.tag_length.unwrap_or(16))
                        .map_err(|_| OpError::TagLength(p.tag_length.unwrap_or_default()))?,
                )
            } else {
                None
            };
        let choice = cipher_for(
            objects,
            &key,
            &p,
            request.iv_counter_nonce.as_deref(),
            request.authenticated_encryption_additional_data.as_deref(),
            Direction::Decrypt,
            tag_len,
        )?;
        if choice.ecb_padding {
            return Err(OpError::NotSupported(
                "multi-part AES-ECB with padding is not offered".into(),
            ));
        }
        let cipher = objects
            .hsm
            .start_stream(key.managed(), &choice.cipher, true)
            .map_err(hsm_error)?;
        Ok((
            Stream {
                owner: ctx.identity.as_str().to_owned(),
                uid: key.uid,
                cipher,
                tag_len: choice.tag_len,
                last: Instant::now(),
            },
            None,
        ))
    };
    let tail = if last && separate_tag(ctx.version) {
        request.authenticated_encryption_tag.as_deref()
    } else {
        None
    };
    let p = part(ctx, objects, s, data, tail, start)?;
    Ok(ResponsePayload::Data(DataResponse {
        unique_identifier: Some(p.uid),
        data_tag: Tag::DATA,
        data: Some(p.out),
        correlation_value: p.correlation_value,
    }))
}
