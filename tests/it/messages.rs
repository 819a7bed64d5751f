//! The outbox and the inbox of messages between tenants: a message is due at once, tried again
//! when its attempt fails, held while its destination does not answer, delivered once, dead
//! when its sender gives up and sent again by the operator; an incoming message is recorded
//! once and a repeat is answered as the first was. On both databases.

use zhiyuan_store::{Delivery, IncomingMessage, OutgoingMessage, Received};

use crate::support::on_both_databases;

const WUHAN: &str = "https://wuhan.example";
const EZHOU: &str = "https://ezhou.example";

fn message(destination: &str, n: u8) -> OutgoingMessage {
    OutgoingMessage {
        id: uuid::Uuid::now_v7(),
        destination: destination.to_owned(),
        kind: "transfer_request".to_owned(),
        body: format!("{{\"n\":{n}}}"),
    }
}

/// The node's own sender is kept out of the way: these scenarios drive the outbox by hand, and
/// a round of the sender between two of their steps would try, and hold, a destination itself.
fn sender_idle(config: &mut zhiyuan::NodeConfig) {
    config.transfers.deliver_every_ms = 3_600_000;
}

on_both_databases! {
    configure = sender_idle;
    async fn messages_are_delivered_once_retried_held_and_revived(node: &TestNode) {
        let store = node.store();
        let now = || node.app().clock.now();
        let to_wuhan = message(WUHAN, 1);
        let to_ezhou = message(EZHOU, 2);
        let later_to_wuhan = message(WUHAN, 3);
        store.send_message("421300", &to_wuhan, now()).await.unwrap();
        node.clock.advance_seconds(1);
        store.send_message("421300", &to_ezhou, now()).await.unwrap();
        store.send_message("421300", &later_to_wuhan, now()).await.unwrap();
        let due = store.due_messages(now(), 10).await.unwrap();
        let ids: Vec<_> = due.iter().map(|pending| pending.message.id).collect();
        assert_eq!(ids.len(), 3);
        assert_eq!(ids[0], to_wuhan.id, "the first sent is the first due");
        assert_eq!(due[0].message, to_wuhan);
        assert_eq!((due[0].sender.as_str(), due[0].attempts), ("421300", 0));

        // Wuhan does not answer: the message is tried again in ten seconds, and Wuhan is held
        // for a minute, its other message too.
        let failed = Delivery::Failed {
            error: "connection refused".into(),
            retry_at: Some(now().plus_seconds(10)),
        };
        store.record_delivery("421300", to_wuhan.id, &failed, now()).await.unwrap();
        assert_eq!(store.hold_destination(WUHAN, now().plus_seconds(60)).await.unwrap(), 2);
        let due = store.due_messages(now(), 10).await.unwrap();
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].message.id, to_ezhou.id);

        // Ezhou answers: delivered once; a second answer finds nothing to deliver.
        let answered = Delivery::Answered("{\"receipt\":\"r-2\"}".into());
        store.record_delivery("421300", to_ezhou.id, &answered, now()).await.unwrap();
        assert!(matches!(
            store.record_delivery("421300", to_ezhou.id, &answered, now()).await,
            Err(zhiyuan_store::StoreError::NotFound)
        ));
        assert!(store.due_messages(now(), 10).await.unwrap().is_empty());

        // A minute on, Wuhan's messages are due again, the failed one with its attempt and error.
        node.clock.advance_seconds(60);
        let due = store.due_messages(now(), 10).await.unwrap();
        assert_eq!(due.len(), 2);
        let retried = due.iter().find(|pending| pending.message.id == to_wuhan.id).unwrap();
        assert_eq!(retried.attempts, 1);
        assert_eq!(retried.last_error.as_deref(), Some("connection refused"));

        // The sender gives up on it: dead, and the operator sees it beside the rest.
        let given_up = Delivery::Failed { error: "gone".into(), retry_at: None };
        store.record_delivery("421300", to_wuhan.id, &given_up, now()).await.unwrap();
        let summary = store.outbox_summary().await.unwrap();
        let counts: Vec<_> = summary
            .iter()
            .map(|destination| {
                (destination.destination.as_str(), destination.pending, destination.delivered, destination.dead)
            })
            .collect();
        assert_eq!(counts, [(EZHOU, 0, 1, 0), (WUHAN, 1, 0, 1)]);
        assert!(store.due_messages(now(), 10).await.unwrap().iter().all(|pending| pending.message.id != to_wuhan.id));

        // The operator sends it again: due at once, its attempts counted anew. A message not
        // dead is not revived.
        store.retry_message("421300", to_wuhan.id, now()).await.unwrap();
        let due = store.due_messages(now(), 10).await.unwrap();
        let revived = due.iter().find(|pending| pending.message.id == to_wuhan.id).unwrap();
        assert_eq!(revived.attempts, 0);
        assert!(matches!(
            store.retry_message("421300", to_ezhou.id, now()).await,
            Err(zhiyuan_store::StoreError::NotFound)
        ));
    }

    async fn an_incoming_message_is_recorded_once_and_a_repeat_answered_as_the_first(node: &TestNode) {
        let store = node.store();
        let now = node.app().clock.now();
        let from_wuhan = IncomingMessage {
            origin: "did:web:wuhan.example:tenants:420100",
            id: "m-1",
            kind: "transfer_request",
        };
        let first = store.receive_message("421300", from_wuhan, "{\"receipt\":\"r-1\"}", now).await.unwrap();
        assert_eq!(first, Received::First);
        let again = store.receive_message("421300", from_wuhan, "{\"receipt\":\"other\"}", now).await.unwrap();
        assert_eq!(again, Received::Again("{\"receipt\":\"r-1\"}".into()));
        // The same id from another origin is another message.
        let from_ezhou = IncomingMessage { origin: "did:web:ezhou.example:tenants:420700", ..from_wuhan };
        assert_eq!(store.receive_message("421300", from_ezhou, "{}", now).await.unwrap(), Received::First);
        assert_eq!(node.count("inbox").await, 2);
    }
}
