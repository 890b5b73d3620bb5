//! The usage ledger: written with the reply in one transaction, summed per day, provider and
//! model, read back by range; quota overrides set and cleared.

use lia_domain::ports::{UsageRepository, UsageRow};
use lia_domain::{ConversationRepository, TokenUsage, UsageSource};
use time::Duration;

use crate::support::{backends, finished_turn};

fn usage(prompt: u32, completion: u32, reasoning: Option<u32>) -> TokenUsage {
    TokenUsage {
        prompt_tokens: prompt,
        completion_tokens: completion,
        reasoning_tokens: reasoning,
        source: UsageSource::Provider,
    }
}

#[tokio::test]
async fn replies_add_to_their_days_row_and_ranges_read_them_back() {
    for db in backends().await {
        let repository = db.database.usage();
        let (ada, bob) = (db.user("ada").await, db.user("bob").await);
        let today = time::OffsetDateTime::now_utc().date();
        let yesterday = today - Duration::days(1);
        for (user, day, spent) in [
            (&ada, today, usage(10, 5, Some(2))),
            (&ada, today, usage(20, 7, None)),
            (&ada, yesterday, usage(1, 1, None)),
            (&bob, today, usage(100, 100, None)),
        ] {
            let turn = db.start(user, "Hello").await;
            let mut finished = finished_turn(user, &turn, Some("Hi"), None);
            finished.usage_day = day;
            if let Some(reply) = finished.reply.as_mut() {
                reply.model_info.usage = Some(spent);
            }
            db.conversations.finish_turn(finished).await.unwrap();
        }
        // A reply without usage (written before it was recorded) charges nothing.
        let turn = db.start(&ada, "Old").await;
        db.conversations
            .finish_turn(finished_turn(&ada, &turn, Some("Hi"), None))
            .await
            .unwrap();

        let rows = repository.usage(ada.id, yesterday, today).await.unwrap();
        let row = |day, prompt, completion, reasoning, turns| UsageRow {
            day,
            provider: "local".into(),
            model: "eliza".into(),
            prompt_tokens: prompt,
            completion_tokens: completion,
            reasoning_tokens: reasoning,
            turns,
        };
        assert_eq!(
            rows,
            [row(yesterday, 1, 1, 0, 1), row(today, 30, 12, 2, 2)],
            "{}",
            db.name
        );
        assert_eq!(repository.tokens_spent(ada.id, today).await.unwrap(), 42);
        assert_eq!(repository.tokens_spent(bob.id, today).await.unwrap(), 200);
        assert_eq!(
            repository
                .tokens_spent(ada.id, today + Duration::days(1))
                .await
                .unwrap(),
            0
        );
        assert_eq!(
            repository.usage(ada.id, today, today).await.unwrap().len(),
            1
        );
        db.finish().await;
    }
}

#[tokio::test]
async fn quota_overrides_are_set_replaced_and_cleared() {
    for db in backends().await {
        let repository = db.database.usage();
        let ada = db.user("ada").await;
        assert_eq!(repository.quota_override(ada.id).await.unwrap(), None);
        repository
            .set_quota_override(ada.id, Some(500))
            .await
            .unwrap();
        repository
            .set_quota_override(ada.id, Some(900))
            .await
            .unwrap();
        assert_eq!(
            repository.quota_override(ada.id).await.unwrap(),
            Some(900),
            "{}",
            db.name
        );
        repository.set_quota_override(ada.id, None).await.unwrap();
        assert_eq!(repository.quota_override(ada.id).await.unwrap(), None);
        db.finish().await;
    }
}
