//! Decode + encode of a typical Get response (an AES-256 key) and of a 100-item batch
//! (GetAttributes × 100), binary TTLV through the tree and the typed layer.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use hsmkms::kmip::Message;
use hsmkms::ttlv::{self, Item, Limits, Tag, Value};

fn s(tag: Tag, c: Vec<Item>) -> Item {
    Item::structure(tag, c)
}

fn v(tag: Tag, value: Value) -> Item {
    Item::new(tag, value)
}

fn version() -> Item {
    s(
        Tag::PROTOCOL_VERSION,
        vec![
            v(Tag::PROTOCOL_VERSION_MAJOR, Value::Integer(1)),
            v(Tag::PROTOCOL_VERSION_MINOR, Value::Integer(4)),
        ],
    )
}

fn get_response() -> Vec<u8> {
    let key_block = s(
        Tag::KEY_BLOCK,
        vec![
            v(Tag::KEY_FORMAT_TYPE, Value::Enumeration(1)),
            s(
                Tag::KEY_VALUE,
                vec![v(Tag::KEY_MATERIAL, Value::ByteString(vec![0x5A; 32]))],
            ),
            v(Tag::CRYPTOGRAPHIC_ALGORITHM, Value::Enumeration(3)),
            v(Tag::CRYPTOGRAPHIC_LENGTH, Value::Integer(256)),
        ],
    );
    let msg = s(
        Tag::RESPONSE_MESSAGE,
        vec![
            s(
                Tag::RESPONSE_HEADER,
                vec![
                    version(),
                    v(Tag::TIME_STAMP, Value::DateTime(1_767_323_045)),
                    v(Tag::BATCH_COUNT, Value::Integer(1)),
                ],
            ),
            s(
                Tag::BATCH_ITEM,
                vec![
                    v(Tag::OPERATION, Value::Enumeration(10)),
                    v(Tag::RESULT_STATUS, Value::Enumeration(0)),
                    s(
                        Tag::RESPONSE_PAYLOAD,
                        vec![
                            v(Tag::OBJECT_TYPE, Value::Enumeration(2)),
                            v(
                                Tag::UNIQUE_IDENTIFIER,
                                Value::TextString("4f3e2d1c-0b0a-4998-8776-655443322110".into()),
                            ),
                            s(Tag::SYMMETRIC_KEY, vec![key_block]),
                        ],
                    ),
                ],
            ),
        ],
    );
    ttlv::to_vec(&msg)
}

fn batch_100() -> Vec<u8> {
    let mut children = vec![s(
        Tag::REQUEST_HEADER,
        vec![version(), v(Tag::BATCH_COUNT, Value::Integer(100))],
    )];
    for i in 0..100u32 {
        children.push(s(
            Tag::BATCH_ITEM,
            vec![
                v(Tag::OPERATION, Value::Enumeration(11)),
                v(
                    Tag::UNIQUE_BATCH_ITEM_ID,
                    Value::ByteString(i.to_be_bytes().to_vec()),
                ),
                s(
                    Tag::REQUEST_PAYLOAD,
                    vec![
                        v(
                            Tag::UNIQUE_IDENTIFIER,
                            Value::TextString(format!("key-{i:08}")),
                        ),
                        v(Tag::ATTRIBUTE_NAME, Value::TextString("State".into())),
                        v(
                            Tag::ATTRIBUTE_NAME,
                            Value::TextString("Activation Date".into()),
                        ),
                    ],
                ),
            ],
        ));
    }
    ttlv::to_vec(&s(Tag::REQUEST_MESSAGE, children))
}

fn bench(c: &mut Criterion) {
    for (name, bytes) in [("get_response", get_response()), ("batch_100", batch_100())] {
        let mut g = c.benchmark_group(name);
        g.throughput(Throughput::Bytes(bytes.len() as u64));
        g.bench_function("decode+encode tree", |b| {
            b.iter(|| {
                let item = ttlv::decode(&bytes, &Limits::DEFAULT).unwrap();
                ttlv::to_vec(&item)
            })
        });
        // What the server does: the tree and the encoding clear themselves when dropped.
        g.bench_function("decode+encode tree zeroizing", |b| {
            b.iter(|| {
                let item = ttlv::decode_zeroizing(&bytes, &Limits::DEFAULT).unwrap();
                ttlv::to_zeroizing_vec(&item)
            })
        });
        g.bench_function("decode+encode typed", |b| {
            b.iter(|| {
                let item = ttlv::decode(&bytes, &Limits::DEFAULT).unwrap();
                let msg = Message::from_item(&item).unwrap();
                ttlv::to_vec(&msg.to_item())
            })
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
